/*
 * msg_ja.h: the Japanese next to each English error a listener answers.
 */
#ifndef SK_MSG_JA_H
#define SK_MSG_JA_H

/* The Japanese for an error reason (en may be NULL): never NULL. */
const char *msg_ja(int status, const char *en);

#endif
