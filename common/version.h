/*
 * version.h: the one version of Sekisho, which every program prints with
 * --version and writes into its storage's marker. deploy/debian/changelog
 * carries the same number (tests/integration/test_deb.sh checks that).
 */
#ifndef SK_VERSION_H
#define SK_VERSION_H

#define SK_VERSION "0.1.0"

#endif
