/* records-fixture DIR: write the report fixture of the records tests (see
 * helpers.c th_fixture) into DIR, for the sluice-ctl shell test. */
#include <stdio.h>

#include "helpers.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: records-fixture DIR\n");
		return 2;
	}
	if (th_fixture(argv[1]) != 0) {
		fprintf(stderr, "records-fixture: cannot write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
