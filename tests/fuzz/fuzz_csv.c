/*
 * fuzz_csv.c: libFuzzer target for the vault's CSV reader (UTF-8 and
 * CP932) and the value parsers the actions apply to every field.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "action.h"
#include "csv.h"
#include "policy.h"
#include "sk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fields_through_actions(char **f, uint32_t *lens, size_t n)
{
	static const uint8_t key[32];
	struct policy_column band = { .action = ACT_BAND, .width = 5,
		.top = 90, .has_top = 1 };
	struct policy_column age = { .action = ACT_AGE_BAND, .width = 5,
		.ref_y = 2026, .ref_m = 4, .ref_d = 1 };
	struct policy_column date = { .action = ACT_DATE, .month = 1 };
	struct policy_column trunc = { .action = ACT_TRUNCATE, .keep = 3 };
	struct policy empty;
	char out[ACTION_OUT_MAX];
	const char *why;
	size_t i;

	memset(&empty, 0, sizeof(empty));
	for (i = 0; i < n && i < 4; i++) {
		action_apply(&band, key, f[i], lens[i], out, &why);
		action_apply(&age, key, f[i], lens[i], out, &why);
		action_apply(&date, key, f[i], lens[i], out, &why);
		action_apply(&trunc, key, f[i], lens[i], out, &why);
		action_scan(&empty, f[i], lens[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader *r;
	char **f;
	uint32_t *lens;
	size_t n;
	int fd, enc, e;

	if (size == 0)
		return 0;
	for (enc = 0; enc < 2; enc++) {
		if ((fd = memfd_create("fuzz", 0)) == -1)
			return 0;
		if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
			close(fd);
			return 0;
		}
		lseek(fd, 0, SEEK_SET);
		if (csv_reader_new(fd, enc ? CSV_CP932 : CSV_UTF8,
		    data[0] & 1 ? ';' : ',', &r) == 0) {
			while ((e = csv_read(r, &f, &lens, &n)) == 1) {
				if (n == 0 || n > CSV_FIELDS_MAX)
					__builtin_trap();
				fields_through_actions(f, lens, n);
			}
			if (e < 0 && csv_reader_error(r)[0] == '\0')
				__builtin_trap();	/* errors say why */
			csv_reader_free(r);
		}
		close(fd);
	}
	return 0;
}
