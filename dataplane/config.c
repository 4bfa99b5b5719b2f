/* Dataplane configuration: defaults and the libconfig file parser. Every
 * setting has a default; unknown keys and bad values are FILE:LINE errors. */
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice.h"

void sl_config_defaults(struct sl_config *c)
{
	memset(c, 0, sizeof(*c));
	c->flows = 262144;
	c->tcp_timeout = 600;
	c->tcp_closed_timeout = 10;
	c->udp_timeout = 60;
	c->other_timeout = 30;
	c->evict_min_idle_ms = 1000;
	c->inspect_depth = 1 << 20;
	c->ooo_bytes_per_flow = 65536;
	c->seg_chunks = 65536;
	c->app_buffers = 256;
	c->stream_slots = 0;        /* 0: two per flow (see sl_config_finish) */
	c->frag_flows = 4096;
	c->frag_mbufs = 8192;
	c->frag_timeout_ms = 2000;
	c->mbufs = 16383;
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->rx_backlog = UINT32_MAX;
	c->event_ring = 8192;
	c->segment_bytes = 64ull << 20;
	c->segment_seconds = 3600;
	c->retention_days = 180;
	c->overload = SL_FAIL_OPEN;
	c->malformed_drop = false;
	c->idle_sleep_us = 0;
}

/* Defaults that depend on other settings. */
void sl_config_finish(struct sl_config *c)
{
	if (c->stream_slots == 0)
		c->stream_slots = c->flows > (1u << 25) ? (1u << 26) : 2 * c->flows;
}

void sl_config_free(struct sl_config *c)
{
	free(c->policy);
	free(c->records_dir);
	free(c->socket_path);
	free(c->socket_group);
	free(c->block_page_file);
	free(c->block_page);
	free(c->pseudonym_key_file);
	memset(c, 0, sizeof(*c));
}

struct cfg_ctx {
	const char *file;
	char dir[PATH_MAX];
	int errors;
};

static void cerr(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cerr(struct cfg_ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", x->file, s ? config_setting_source_line(s) : 0);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	x->errors++;
}

/* Resolve a path relative to the config file's directory. */
static char *cfg_path(struct cfg_ctx *x, const char *p)
{
	char *r;

	if (p[0] == '/' || x->dir[0] == '\0')
		return strdup(p);
	if (asprintf(&r, "%s/%s", x->dir, p) < 0)
		return NULL;
	return r;
}

static int get_str(struct cfg_ctx *x, const config_setting_t *s, char **out, bool path)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cerr(x, s, "%s: expected a string", config_setting_name(s));
		return -EINVAL;
	}
	v = config_setting_get_string(s);
	free(*out);
	*out = path ? cfg_path(x, v) : strdup(v);
	return *out ? 0 : -ENOMEM;
}

static int get_u64(struct cfg_ctx *x, const config_setting_t *s, uint64_t lo,
		   uint64_t hi, uint64_t *out)
{
	long long v;

	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		cerr(x, s, "%s: expected an integer", config_setting_name(s));
		return -EINVAL;
	}
	if (v < 0 || (uint64_t)v < lo || (uint64_t)v > hi) {
		cerr(x, s, "%s: %lld is out of range [%llu, %llu]",
		     config_setting_name(s), v, (unsigned long long)lo,
		     (unsigned long long)hi);
		return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

static int get_u32(struct cfg_ctx *x, const config_setting_t *s, uint32_t lo,
		   uint32_t hi, uint32_t *out)
{
	uint64_t v;
	int rc = get_u64(x, s, lo, hi, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int get_bool(struct cfg_ctx *x, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cerr(x, s, "%s: expected true or false", config_setting_name(s));
		return -EINVAL;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

static void parse_ports(struct cfg_ctx *x, struct sl_config *c, const config_setting_t *s)
{
	/* ports = ( [0, 1], [2] ): a pair forwards both ways, a single port hairpins */
	int n = config_setting_length(s);

	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		cerr(x, s, "ports: expected a list of [a, b] pairs or [p] singles");
		return;
	}
	c->nports = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		int m = config_setting_length(e);
		int a, b;

		if (!config_setting_is_array(e) || m < 1 || m > 2 ||
		    config_setting_type(config_setting_get_elem(e, 0)) != CONFIG_TYPE_INT) {
			cerr(x, e, "ports: each entry is [a, b] or [p] (port ids)");
			continue;
		}
		a = config_setting_get_int_elem(e, 0);
		b = m == 2 ? config_setting_get_int_elem(e, 1) : a;
		if (a < 0 || b < 0 || a >= SL_MAX_PORTS || b >= SL_MAX_PORTS ||
		    c->nports + (a == b ? 1 : 2) > SL_MAX_PORTS) {
			cerr(x, e, "ports: port ids are 0 to %d, at most %d ports",
			     SL_MAX_PORTS - 1, SL_MAX_PORTS);
			continue;
		}
		c->port[c->nports] = (uint16_t)a;
		c->peer[c->nports++] = (uint16_t)b;
		if (a != b) {
			c->port[c->nports] = (uint16_t)b;
			c->peer[c->nports++] = (uint16_t)a;
		}
	}
	c->ports_given = true;
}

static void parse_workers(struct cfg_ctx *x, struct sl_config *c, const config_setting_t *s)
{
	int n = config_setting_length(s);

	if (!config_setting_is_array(s) || n > SL_MAX_WORKERS) {
		cerr(x, s, "workers: expected an array of at most %d lcore ids", SL_MAX_WORKERS);
		return;
	}
	c->nworkers_req = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 0 ||
		    config_setting_get_int(e) >= RTE_MAX_LCORE) {
			cerr(x, e, "workers: bad lcore id");
			continue;
		}
		c->worker_lcore[c->nworkers_req++] = (uint16_t)config_setting_get_int(e);
	}
}

static void parse_group(struct cfg_ctx *x, struct sl_config *c, const config_setting_t *g)
{
	int n = config_setting_length(g);
	const char *gname = config_setting_name(g);

	if (!config_setting_is_group(g)) {
		cerr(x, g, "%s: expected a group { ... }", gname);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *k = config_setting_name(s);
		if (strcmp(gname, "records") == 0) {
			if (strcmp(k, "dir") == 0)
				get_str(x, s, &c->records_dir, true);
			else if (strcmp(k, "segment_mb") == 0) {
				uint64_t v;

				if (get_u64(x, s, 1, 1 << 20, &v) == 0)
					c->segment_bytes = v << 20;
			} else if (strcmp(k, "segment_seconds") == 0)
				get_u32(x, s, 1, 86400 * 31, &c->segment_seconds);
			else if (strcmp(k, "retention_days") == 0) {
				get_u32(x, s, 1, 36500, &c->retention_days);
				if (c->retention_days < 180)   /* allowed: the operator's call */
					fprintf(stderr, "%s:%d: warning: retention_days %u is less "
						"than the six months of CSL Art. 21\n", x->file,
						config_setting_source_line(s), c->retention_days);
			}
			else if (strcmp(k, "capture") == 0)
				get_bool(x, s, &c->capture);
			else if (strcmp(k, "pseudonym_key_file") == 0)
				get_str(x, s, &c->pseudonym_key_file, true);
			else if (strcmp(k, "ring") == 0)
				get_u32(x, s, 64, 1 << 24, &c->event_ring);
			else
				cerr(x, s, "records: unknown key '%s'", k);
		} else if (strcmp(gname, "control") == 0) {
			if (strcmp(k, "socket") == 0)
				get_str(x, s, &c->socket_path, true);
			else if (strcmp(k, "group") == 0)
				get_str(x, s, &c->socket_group, false);
			else
				cerr(x, s, "control: unknown key '%s'", k);
		} else if (strcmp(gname, "timeouts") == 0) {
			if (strcmp(k, "tcp") == 0)
				get_u32(x, s, 1, 86400, &c->tcp_timeout);
			else if (strcmp(k, "tcp_closed") == 0)
				get_u32(x, s, 1, 86400, &c->tcp_closed_timeout);
			else if (strcmp(k, "udp") == 0)
				get_u32(x, s, 1, 86400, &c->udp_timeout);
			else if (strcmp(k, "other") == 0)
				get_u32(x, s, 1, 86400, &c->other_timeout);
			else if (strcmp(k, "fragment_ms") == 0)
				get_u32(x, s, 10, 60000, &c->frag_timeout_ms);
			else if (strcmp(k, "evict_min_idle_ms") == 0)
				get_u32(x, s, 0, 3600000, &c->evict_min_idle_ms);
			else
				cerr(x, s, "timeouts: unknown key '%s'", k);
		} else if (strcmp(gname, "limits") == 0) {
			if (strcmp(k, "flows") == 0)
				get_u32(x, s, 64, 1u << 26, &c->flows);
			else if (strcmp(k, "inspect_depth") == 0)
				get_u64(x, s, 0, UINT64_MAX >> 1, &c->inspect_depth);
			else if (strcmp(k, "ooo_bytes_per_flow") == 0)
				get_u32(x, s, 0, 1u << 30, &c->ooo_bytes_per_flow);
			else if (strcmp(k, "ooo_chunks") == 0)
				get_u32(x, s, 1, 1u << 26, &c->seg_chunks);
			else if (strcmp(k, "field_buffers") == 0)
				get_u32(x, s, 1, 1u << 20, &c->app_buffers);
			else if (strcmp(k, "stream_states") == 0)
				get_u32(x, s, 1, 1u << 26, &c->stream_slots);
			else if (strcmp(k, "fragment_flows") == 0)
				get_u32(x, s, 1, 1u << 24, &c->frag_flows);
			else if (strcmp(k, "fragment_mbufs") == 0)
				get_u32(x, s, 64, 1u << 24, &c->frag_mbufs);
			else if (strcmp(k, "rx_backlog") == 0)
				get_u32(x, s, 0, 16384, &c->rx_backlog);
			else if (strcmp(k, "mbufs") == 0)
				get_u32(x, s, 1024, 1u << 26, &c->mbufs);
			else if (strcmp(k, "rx_desc") == 0 || strcmp(k, "tx_desc") == 0) {
				uint32_t v;

				if (get_u32(x, s, 64, 16384, &v) == 0)
					*(strcmp(k, "rx_desc") == 0 ? &c->rx_desc : &c->tx_desc) = (uint16_t)v;
			} else
				cerr(x, s, "limits: unknown key '%s'", k);
		} else if (strcmp(gname, "block_page") == 0) {
			if (strcmp(k, "file") == 0)
				get_str(x, s, &c->block_page_file, true);
			else
				cerr(x, s, "block_page: unknown key '%s'", k);
		}
	}
}

static int load_block_page(struct sl_config *c)
{
	FILE *f;
	long n;

	if (c->block_page_file == NULL)
		return 0;
	f = fopen(c->block_page_file, "r");
	if (f == NULL) {
		fprintf(stderr, "%s: block page: %s\n", c->block_page_file, strerror(errno));
		return -errno;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n < 0 || n > 65536) {
		fclose(f);
		fprintf(stderr, "%s: block page larger than 64 KiB\n", c->block_page_file);
		return -EFBIG;
	}
	c->block_page = calloc(1, (size_t)n + 1);
	if (c->block_page == NULL || fread(c->block_page, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	return 0;
}

int sl_config_load(struct sl_config *c, const char *path)
{
	struct cfg_ctx x = { .file = path };
	config_t cf;
	config_setting_t *root;
	char tmp[PATH_MAX];
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(x.dir, sizeof(x.dir), "%s", dirname(tmp));
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		else
			fprintf(stderr, "%s:%d: %s\n", config_error_file(&cf) ? config_error_file(&cf) : path,
				config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	root = config_root_setting(&cf);
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, i);
		const char *k = config_setting_name(s);

		if (strcmp(k, "policy") == 0)
			get_str(&x, s, &c->policy, true);
		else if (strcmp(k, "ports") == 0)
			parse_ports(&x, c, s);
		else if (strcmp(k, "workers") == 0)
			parse_workers(&x, c, s);
		else if (strcmp(k, "encrypted") == 0) {
			char *v = NULL;

			if (get_str(&x, s, &v, false) == 0) {
				if (strcmp(v, "skip") == 0)
					c->scan_encrypted = false;
				else if (strcmp(v, "scan") == 0)
					c->scan_encrypted = true;
				else
					cerr(&x, s, "%s: unknown value \"%s\" (skip | scan)", k, v);
			}
			free(v);
		} else if (strcmp(k, "overload") == 0 || strcmp(k, "malformed") == 0) {
			char *v = NULL;

			if (get_str(&x, s, &v, false) == 0) {
				if (strcmp(k, "overload") == 0 && strcmp(v, "open") == 0)
					c->overload = SL_FAIL_OPEN;
				else if (strcmp(k, "overload") == 0 && strcmp(v, "closed") == 0)
					c->overload = SL_FAIL_CLOSED;
				else if (strcmp(k, "malformed") == 0 && strcmp(v, "forward") == 0)
					c->malformed_drop = false;
				else if (strcmp(k, "malformed") == 0 && strcmp(v, "drop") == 0)
					c->malformed_drop = true;
				else
					cerr(&x, s, "%s: unknown value \"%s\" (%s)", k, v,
					     strcmp(k, "overload") == 0 ? "open | closed" : "forward | drop");
			}
			free(v);
		} else if (strcmp(k, "idle_sleep_us") == 0)
			get_u32(&x, s, 0, 100000, &c->idle_sleep_us);
		else if (strcmp(k, "records") == 0 || strcmp(k, "control") == 0 ||
			 strcmp(k, "timeouts") == 0 || strcmp(k, "limits") == 0 ||
			 strcmp(k, "block_page") == 0)
			parse_group(&x, c, s);
		else
			cerr(&x, s, "unknown key '%s'", k);
	}
	config_destroy(&cf);
	if (x.errors)
		return -EINVAL;
	rc = load_block_page(c);
	c->file = path;
	return rc;
}
