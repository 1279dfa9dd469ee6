/*
 * fuzz_config.c: libFuzzer target for the site configuration loader
 * (libconfig's parser and all of our validation).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config_error err;
	struct site_config *site = NULL;
	char *text;
	int r;

	if (size > 65536 || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = site_config_load_string(text, "/fuzz/site.conf", &site, &err);
	if (r == 0) {
		if (site == NULL)
			__builtin_trap();
		site_config_free(site);
	} else if (site != NULL || err.message[0] == '\0')
		__builtin_trap();	/* every failure says why */
	free(text);
	return 0;
}
