/* Config documents: the position index, syntax-error messages, did-you-mean, the editing
 * API with schema type checks, the writer (byte-for-byte round trips of every bundled config,
 * number text kept, Python json.dump style for new content) and atomic saving. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "core/fileio.h"
#include "testutil.h"

static const char *tests_dir(void) {
    const char *d = getenv("DS_TESTS");
    return d ? d : "tests";
}

static char *slurp(const char *path, size_t *len) {
    char *t = NULL;
    ds_err e;
    if (ds_read_file(path, &t, len, 1 << 26, &e) != DS_OK) return NULL;
    return t;
}

static ds_config_doc *parse(const char *text, ds_diag_list *l) {
    ds_config_doc *d = NULL;
    ds_config_doc_parse(text, strlen(text), "t.json", &d, l, NULL);
    return d;
}

/* Does any diagnostic of l (at line:col if line > 0) contain every fragment? */
static bool has_diag(const ds_diag_list *l, ds_diag_severity sev, const char *path, int line, int col,
                     const char *frag) {
    for (int i = 0; i < l->n; i++) {
        const ds_diag *d = &l->items[i];
        if (d->severity != sev) continue;
        if (path && strcmp(d->path, path)) continue;
        if (line > 0 && (d->line != line || d->column != col)) continue;
        if (frag && !strstr(d->message, frag)) continue;
        return true;
    }
    return false;
}

static void dump(const ds_diag_list *l) {
    char b[2048];
    for (int i = 0; i < l->n; i++) {
        ds_diag_format(&l->items[i], b, sizeof b);
        fprintf(stderr, "  | %s\n", b);
    }
}

/* Line and column (1-based, bytes = characters here) of the n-th occurrence of needle. */
static void find_pos(const char *text, const char *needle, int nth, int *line, int *col) {
    const char *p = text;
    for (int i = 0; i <= nth && p; i++) p = strstr(i ? p + 1 : p, needle);
    *line = *col = 0;
    if (!p) return;
    *line = 1;
    const char *ls = text;
    for (const char *q = text; q < p; q++)
        if (*q == '\n') {
            (*line)++;
            ls = q + 1;
        }
    *col = (int)(p - ls) + 1;
}

/* ---- positions -------------------------------------------------------------------------------- */

static void test_positions(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/sat-configs/model_configs__txt2audio__stable_audio_2_0.json", tests_dir());
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (!text) return;
    ds_config_doc *doc = NULL;
    CHECK(ds_config_doc_load(path, &doc, NULL, NULL) == DS_OK);
    ds_src_pos pos;
    int line, col;
    /* value of demo_cond[2].prompt: the third "prompt": in the demo section */
    CHECK(ds_config_doc_locate(doc, "training.demo.demo_cond[2].prompt", &pos));
    find_pos(text, "\"A cool 80s glam rock", 0, &line, &col);
    CHECKF(pos.line == line && pos.column == col, "got %d:%d want %d:%d", pos.line, pos.column, line, col);
    find_pos(text, "{\"prompt\": \"A cool 80s", 0, &line, &col);
    CHECKF(pos.key_line == line && pos.key_column == col + 1, "key at %d:%d", pos.key_line, pos.key_column);
    CHECK(ds_config_doc_locate(doc, "model.diffusion.config.embed_dim", &pos));
    find_pos(text, "\"embed_dim\": 1536", 0, &line, &col);
    CHECK(pos.key_line == line && pos.key_column == col);
    CHECK(pos.line == line && pos.column == col + 13);
    CHECK(ds_config_doc_locate(doc, "model.diffusion.cross_attention_cond_ids[1]", &pos));
    find_pos(text, "\"seconds_start\", \"seconds_total\"]", 0, &line, &col);
    CHECK(pos.line == line && pos.column == col);
    CHECK(!ds_config_doc_locate(doc, "model.diffusion.config.nope", &pos));
    CHECK(!ds_config_doc_locate(doc, "training.demo.demo_cond[9]", &pos));
    ds_config_doc_free(doc);
    free(text);

    /* columns count characters, not bytes */
    ds_config_doc *u = parse("{\"name\": \"\xc3\xa9t\xc3\xa9\", \"x\": 1}", NULL);
    CHECK(u && ds_config_doc_locate(u, "x", &pos) && pos.line == 1 && pos.column == 22);
    ds_config_doc_free(u);

    /* quoted keys in paths */
    ds_config_doc *q = parse("{\"model\": {\"conditioning\": {\"default_keys\": {\"a.b\": \"c\"}}}}", NULL);
    char buf[64];
    CHECK(q && ds_config_doc_get_json(q, "model.conditioning.default_keys[\"a.b\"]", buf, sizeof buf) &&
          !strcmp(buf, "\"c\""));
    ds_config_doc_free(q);
}

/* ---- syntax errors and refused files ----------------------------------------------------------- */

static void expect_bad(const char *text, size_t len, int line, int col, const char *frag) {
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_config_doc *d = NULL;
    ds_err err;
    ds_status s = ds_config_doc_parse(text, len, "bad.json", &d, &l, &err);
    CHECKF(s == DS_ERR_FORMAT && d == NULL, "accepted: %.40s", text);
    CHECKF(l.n == 1 && has_diag(&l, DS_DIAG_ERROR, "", line, col, frag), "want %d:%d '%s' for %.40s", line, col,
           frag, text);
    if (l.n != 1 || !has_diag(&l, DS_DIAG_ERROR, "", line, col, frag)) dump(&l);
    CHECK(strstr(err.msg, "bad.json") == err.msg);
    ds_config_doc_free(d);
    ds_diag_list_free(&l);
}

static void test_syntax_errors(void) {
#define BAD(t, l, c, f) expect_bad(t, strlen(t), l, c, f)
    BAD("{\n  \"a\": 1,\n}", 2, 9, "trailing comma");
    BAD("{\"a\": [1, 2,]}", 1, 12, "trailing comma");
    BAD("{\"a\": 1\n \"b\": 2}", 2, 2, "missing ','");
    BAD("{\"a\": 'x'}", 1, 7, "double quotes");
    BAD("{a: 1}", 1, 2, "keys must be strings");
    BAD("{\"a\": NaN}", 1, 7, "NaN and Infinity");
    BAD("{\"a\": -Infinity}", 1, 7, "Infinity");
    BAD("// comment\n{}", 1, 1, "comments");
    BAD("{\"a\": 1", 1, 8, "end of file");
    BAD("{\"a\": \"abc", 1, 7, "unterminated string");
    BAD("{\"a\": tru}", 1, 7, "unexpected word 'tru'");
    BAD("{\"a\": 1} x", 1, 10, "after the end");
    BAD("{\"a\" 1}", 1, 6, "expected ':'");
    BAD("{\"a\": +1}", 1, 7, "leading '+'");
    BAD("{\"a\": \"\\x\"}", 1, 8, "invalid escape");
    BAD("", 0, 0, "empty");
    BAD("   \n  ", 0, 0, "empty");
    BAD("[1, 2]", 1, 1, "top level, got a list");
    BAD("\xEF\xBB\xBF{}", 1, 1, "byte order mark");
    expect_bad("{\"a\":\0 1}", 9, 1, 6, "NUL byte");
    BAD("{\"a\": \"\xff\"}", 1, 8, "invalid UTF-8");
    BAD("{\"a\":\x04 1}", 1, 6, "control character U+0004 outside a string"); /* cJSON skips it */
    /* 10000 levels: refused up front, no deep recursion anywhere */
    size_t n = 20002;
    char *deep = malloc(n + 1);
    for (size_t i = 0; i < 10000; i++) deep[i] = '[';
    for (size_t i = 0; i < 10000; i++) deep[10000 + i] = ']';
    deep[20000] = 0;
    expect_bad(deep, 20000, 1, 65, "nesting deeper than 64");
    free(deep);
    sbuf b = {0}; /* {"a":{"a":...1}} 10000 deep: the 65th '{' is refused */
    for (int i = 0; i < 10000; i++) sb_str(&b, "{\"a\":");
    sb_str(&b, "1");
    for (int i = 0; i < 10000; i++) sb_str(&b, "}");
    expect_bad(b.p, b.n, 1, 64 * 5 + 1, "nesting deeper than 64");
    free(b.p);
#undef BAD
}

/* ---- diagnostics: every problem, at its place -------------------------------------------------- */

static const char *DIT_CFG =
    "{\n"
    "  \"model_type\": \"diffusion_cond\",\n"
    "  \"sample_size\": 64,\n"
    "  \"sample_rate\": 44100,\n"
    "  \"model\": {\n"
    "    \"io_channels\": 2,\n"
    "    \"conditioning\": {\n"
    "      \"cond_dim\": 32,\n"
    "      \"configs\": [{\"id\": \"prompt\", \"type\": \"number\", \"config\": {\"max_val\": 10}}]\n"
    "    },\n"
    "    \"diffusion\": {\n"
    "      \"type\": \"dit\",\n"
    "      \"cross_attention_cond_ids\": [\"promt\"],\n"
    "      \"config\": {\"io_channels\": 2, \"embed_dim\": \"big\", \"embed_dimm\": 3, \"num_heads\": 2,\n"
    "                 \"cond_token_dim\": 32, \"global_cond_type\": \"adaln\"}\n"
    "    }\n"
    "  },\n"
    "  \"training\": {\"learning_rate\": 1e-4, \"demo\": {\"num_demos\": 1, \"demo_cfg_scales\": [3],\n"
    "                \"demo_cond\": [{\"prompt\": 1}]}}\n"
    "}\n";

static void test_diagnostics(void) {
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_config_doc *d = parse(DIT_CFG, &l);
    CHECK(d != NULL);
    if (!d) return;
    CHECK(ds_config_doc_validate(d, &l) == DS_ERR_INVALID);
    CHECK(has_diag(&l, DS_DIAG_ERROR, "model.diffusion.config.embed_dim", 14, 49,
                   "expected an integer from 1 to 65536, got \"big\""));
    CHECK(has_diag(&l, DS_DIAG_WARNING, "model.diffusion.config.embed_dimm", 14, 56,
                   "unknown key \"embed_dimm\" (did you mean \"embed_dim\"?)"));
    CHECK(has_diag(&l, DS_DIAG_ERROR, "model.diffusion.config.global_cond_type", 15, 60, "(did you mean \"adaLN\"?)"));
    CHECK(has_diag(&l, DS_DIAG_ERROR, "model.diffusion.cross_attention_cond_ids[0]", 13, 36,
                   "\"promt\" is not a conditioner id (did you mean \"prompt\"?)"));
    CHECK(l.n_errors >= 3);
    char line[1024];
    for (int i = 0; i < l.n; i++)
        if (!strcmp(l.items[i].path, "model.diffusion.config.embed_dim")) {
            ds_diag_format(&l.items[i], line, sizeof line);
            CHECKF(!strcmp(line, "t.json:14:49: error: model.diffusion.config.embed_dim: expected an integer from 1 "
                                 "to 65536, got \"big\""), "%s", line);
        }
    ds_config_doc_free(d);
    ds_diag_list_free(&l);

    /* thousands of problems: capped list, exact counts, no crash */
    size_t cap = 5000 * 24 + 64;
    char *big = malloc(cap);
    size_t o = (size_t)snprintf(big, cap, "{\"model_type\": \"diffusion_uncond\", \"sample_size\": 8, \"sample_rate\": 8");
    for (int i = 0; i < 5000; i++) o += (size_t)snprintf(big + o, cap - o, ", \"junk%d\": 1", i);
    snprintf(big + o, cap - o, "}");
    ds_diag_list_init(&l);
    d = parse(big, &l);
    CHECK(d != NULL);
    if (d) ds_config_doc_validate(d, &l);
    CHECKF(l.n == DS_DIAG_MAX && l.n_dropped > 4000 && l.n_warnings >= 5000, "n %d dropped %d", l.n, l.n_dropped);
    ds_config_doc_free(d);
    ds_diag_list_free(&l);
    free(big);

    /* duplicate keys: warned, and the later value wins as in Python */
    ds_diag_list_init(&l);
    d = parse("{\"model_type\": \"diffusion_uncond\", \"sample_size\": 8, \"sample_size\": 16, \"sample_rate\": 8,"
              " \"model\": {\"type\": \"dit\", \"config\": {\"in_channels\": 2, \"num_heads\": 1, \"embed_dim\": 32}},"
              " \"training\": {\"learning_rate\": 0.1}}", &l);
    ds_model_config *m = malloc(sizeof *m);
    CHECK(d && ds_model_config_from_doc(d, m, &l) == DS_OK);
    CHECK(m->sample_size == 16);
    CHECK(has_diag(&l, DS_DIAG_WARNING, "sample_size", 1, 36, "duplicate key"));
    free(m);
    ds_config_doc_free(d);
    ds_diag_list_free(&l);

    /* numbers cJSON accepts but SAT's Python json refuses */
    ds_diag_list_init(&l);
    d = parse("{\"batch_size\": 04, \"model_config\": \"x\"}", &l);
    CHECK(d != NULL);
    if (d) ds_config_doc_validate(d, &l);
    CHECK(has_diag(&l, DS_DIAG_ERROR, "batch_size", 1, 16, "leading zeros"));
    ds_config_doc_free(d);
    ds_diag_list_free(&l);
}

/* ---- the writer ------------------------------------------------------------------------------- */

static int round_trip_dir(const char *dir, const char *suffix) {
    DIR *dd = opendir(dir);
    if (!dd) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd))) {
        size_t l = strlen(e->d_name), sl = strlen(suffix);
        if (l < sl || strcmp(e->d_name + l - sl, suffix)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        char *src = slurp(path, &len);
        ds_config_doc *doc = NULL;
        CHECKF(src && ds_config_doc_load(path, &doc, NULL, NULL) == DS_OK, "%s", path);
        char *out = NULL;
        size_t olen = 0;
        if (doc) CHECK(ds_config_doc_format(doc, &out, &olen, NULL) == DS_OK);
        CHECKF(out && olen == len && !memcmp(out, src, len), "%s does not round-trip byte for byte", path);
        free(out);
        free(src);
        ds_config_doc_free(doc);
        n++;
    }
    closedir(dd);
    return n;
}

static void test_round_trips(void) {
    char dir[4096];
    int n = 0;
    snprintf(dir, sizeof dir, "%s/sat-configs", tests_dir());
    n += round_trip_dir(dir, ".json");
    snprintf(dir, sizeof dir, "%s/bench-configs", tests_dir());
    n += round_trip_dir(dir, ".json");
    const char *fx[] = {"adp_cfg_basic", "adp_uncond_basic", "dau1d_basic", "dit_basic", "v_objective_step"};
    for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
        snprintf(dir, sizeof dir, "%s/fixtures/%s", tests_dir(), fx[i]);
        n += round_trip_dir(dir, "config.json");
    }
    snprintf(dir, sizeof dir, "%s/../configs", tests_dir());
    n += round_trip_dir(dir, ".json");
    CHECKF(n >= 12 + 4 + 5 + 1, "only %d files", n);

    /* tabs, CRLF, no trailing newline, odd spacing inside one-line containers */
    const char *odd[] = {"{\n\t\"a\": [1,2 ,3],\n\t\"b\": {\n\t\t\"c\": 1e-4\n\t}\n}",
                         "{\r\n  \"a\": 1,\r\n  \"b\": []\r\n}\r\n", "{}", "{\"x\": {\"y\": [ ]}}\n"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        ds_config_doc *d = parse(odd[i], NULL);
        char *out = NULL;
        CHECK(d && ds_config_doc_format(d, &out, NULL, NULL) == DS_OK && !strcmp(out, odd[i]));
        free(out);
        ds_config_doc_free(d);
    }
    /* not canonical: re-formatted in json.dump style (2-space indent detected) */
    ds_config_doc *d = parse("{\n  \"a\": [1,\n 2],   \"b\" :true}", NULL);
    char *out = NULL;
    CHECK(d && ds_config_doc_format(d, &out, NULL, NULL) == DS_OK);
    CHECKF(out && !strcmp(out, "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": true\n}"), "%s", out ? out : "");
    free(out);
    ds_config_doc_free(d);
}

static void test_py_floats(void) {
    const struct { double v; const char *s; } c[] = {
        {1e-4, "0.0001"}, {5e-5, "5e-05"},       {1e16, "1e+16"},   {1e15, "1000000000000000.0"},
        {0.1, "0.1"},     {1.0 / 3, "0.3333333333333333"},          {1.5e-7, "1.5e-07"},
        {123456789.0, "123456789.0"},            {-2.5, "-2.5"},    {0.0, "0.0"},
        {1e22, "1e+22"},  {0.001, "0.001"},      {2e-3, "0.002"},   {1.7976931348623157e308, "1.7976931348623157e+308"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char b[64];
        fmt_py_float(c[i].v, b, sizeof b);
        CHECKF(!strcmp(b, c[i].s), "%.17g -> %s, want %s", c[i].v, b, c[i].s);
    }
}

/* ---- editing ---------------------------------------------------------------------------------- */

static char *fmt(ds_config_doc *d) {
    char *out = NULL;
    ds_config_doc_format(d, &out, NULL, NULL);
    return out ? out : strdup("");
}

static void test_editing(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/sat-configs/model_configs__txt2audio__stable_audio_2_0.json", tests_dir());
    size_t len;
    char *src = slurp(path, &len);
    ds_config_doc *d = NULL;
    CHECK(ds_config_doc_load(path, &d, NULL, NULL) == DS_OK);
    if (!d || !src) return;
    ds_err err;
    CHECK(!ds_config_doc_modified(d));

    /* a changed int: only that line differs */
    CHECK(ds_config_doc_set_int(d, "model.diffusion.config.embed_dim", 768, &err) == DS_OK);
    char *out = fmt(d);
    char *at = strstr(src, "\"embed_dim\": 1536");
    size_t pre = (size_t)(at - src);
    CHECK(!strncmp(out, src, pre) && !strncmp(out + pre, "\"embed_dim\": 768", 16) &&
          !strcmp(out + pre + 16, src + pre + 17));
    free(out);
    CHECK(ds_config_doc_modified(d));

    /* number text: given text is kept; set_number writes Python's repr */
    CHECK(ds_config_doc_set_json(d, "training.optimizer_configs.diffusion.optimizer.config.lr", "1e-4", &err) == DS_OK);
    out = fmt(d);
    CHECK(strstr(out, "\"lr\": 1e-4,") != NULL);
    CHECK(strstr(out, "\"inv_gamma\": 1000000,") != NULL); /* untouched numbers keep their text */
    free(out);
    CHECK(ds_config_doc_set_number(d, "training.optimizer_configs.diffusion.optimizer.config.lr", 5e-05, &err) == DS_OK);
    out = fmt(d);
    CHECK(strstr(out, "\"lr\": 5e-05,") != NULL);
    free(out);

    /* type checks against the schema */
    CHECK(ds_config_doc_set_json(d, "model.diffusion.config.embed_dim", "\"big\"", &err) == DS_ERR_INVALID);
    CHECKF(strstr(err.msg, "model.diffusion.config.embed_dim: expected an integer from 1 to 65536, got \"big\""),
           "%s", err.msg);
    CHECK(ds_config_doc_set_int(d, "model.diffusion.config.embed_dim", 0, &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_json(d, "model.diffusion.config.embed_dim", "12.5", &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_string(d, "model.diffusion.type", "ditt", &err) == DS_ERR_INVALID);
    CHECKF(strstr(err.msg, "did you mean \"dit\"") != NULL, "%s", err.msg);
    CHECK(ds_config_doc_set_bool(d, "training.use_ema", true, &err) == DS_OK);
    CHECK(ds_config_doc_set_int(d, "training.use_ema", 1, &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_json(d, "model.diffusion.config.embed_dimm", "3", &err) == DS_ERR_INVALID);
    CHECKF(strstr(err.msg, "did you mean \"embed_dim\"") != NULL, "%s", err.msg);
    CHECK(ds_config_doc_set_json(d, "model.diffusion.config.num_heads", "{", &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_number(d, "training.cfg_dropout_prob", 1.0 / 0.0, &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_number(d, "training.cfg_dropout_prob", 1.5, &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_set_json(d, "training.demo.demo_cfg_scales", "[3, \"x\"]", &err) == DS_ERR_INVALID);
    CHECKF(strstr(err.msg, "element [1]") != NULL, "%s", err.msg);

    /* lists: replace keeps the one-line style, [N] == length appends */
    CHECK(ds_config_doc_set_json(d, "training.demo.demo_cfg_scales", "[3,6]", &err) == DS_OK);
    CHECK(ds_config_doc_set_int(d, "training.demo.demo_cfg_scales[2]", 12, &err) == DS_OK);
    CHECK(ds_config_doc_set_int(d, "training.demo.demo_cfg_scales[9]", 12, &err) == DS_ERR_INVALID);
    out = fmt(d);
    CHECKF(strstr(out, "\"demo_cfg_scales\": [3, 6, 12]\n") != NULL, "%s", out);
    free(out);

    /* missing parents are created; new objects are written in json.dump style */
    CHECK(ds_config_doc_set_number(d, "model.diffusion.distribution_shift_options.base_shift", 0.25, &err) == DS_OK);
    out = fmt(d);
    CHECKF(strstr(out, "\"distribution_shift_options\": {\n                \"base_shift\": 0.25\n            }\n") != NULL,
           "%s", out);
    free(out);

    /* free-form subtrees (autoencoder internals) take any value */
    CHECK(ds_config_doc_set_int(d, "model.pretransform.config.encoder.config.channels", 64, &err) == DS_OK);

    /* delete: optional yes, required no */
    CHECK(ds_config_doc_delete(d, "training.log_loss_info", &err) == DS_OK);
    CHECK(!ds_config_doc_has(d, "training.log_loss_info"));
    CHECK(ds_config_doc_delete(d, "model.diffusion.type", &err) == DS_ERR_INVALID);
    CHECK(strstr(err.msg, "required") != NULL);
    CHECK(ds_config_doc_delete(d, "training.nope", &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_delete(d, "model.diffusion.cross_attention_cond_ids[0]", &err) == DS_OK);
    CHECK(ds_config_doc_array_len(d, "model.diffusion.cross_attention_cond_ids") == 2);

    /* add an optional key with its default */
    CHECK(ds_config_doc_add_default(d, "model.diffusion.config.patch_size", &err) == DS_OK);
    CHECK(ds_config_doc_add_default(d, "model.diffusion.config.patch_size", &err) == DS_ERR_INVALID);
    CHECK(ds_config_doc_add_default(d, "model.diffusion.config.attn_kwargs", &err) == DS_OK);
    CHECK(ds_config_doc_add_default(d, "model.diffusion.config.norm_kwargs.eps", &err) == DS_OK);
    CHECK(ds_config_doc_add_default(d, "model.io_channels", &err) == DS_ERR_INVALID); /* present */
    CHECK(ds_config_doc_add_default(d, "model.conditioning.configs[0].config.clap_ckpt_path", &err) == DS_ERR_INVALID);
    out = fmt(d);
    CHECKF(strstr(out, "\"transformer_type\": \"continuous_transformer\",\n                \"patch_size\": 1,\n"
                       "                \"attn_kwargs\": {},\n                \"norm_kwargs\": {\n"
                       "                    \"eps\": 1e-05\n                }\n            }") != NULL, "%s", out);
    free(out);

    /* the edited document still validates, and its struct shows the edits */
    ds_model_config *m = malloc(sizeof *m);
    ds_diag_list l;
    ds_diag_list_init(&l);
    ds_status s = ds_model_config_from_doc(d, m, &l);
    if (s != DS_OK) dump(&l);
    CHECK(s == DS_OK);
    CHECK(m->dit.embed_dim == 768 && m->training.lr == 5e-05 && m->dist_shift.present &&
          m->dist_shift.base_shift == 0.25 && m->dist_shift.max_shift == 1.15);
    CHECK(m->training.demo.n_cfg_scales == 3 && m->training.demo.cfg_scales[2] == 12);
    ds_diag_list_free(&l);
    free(m);
    ds_config_doc_free(d);
    free(src);
}

/* ---- saving ----------------------------------------------------------------------------------- */

static int count_tmp_files(const char *dir) {
    DIR *dd = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd))) n += strstr(e->d_name, ".tmp.") != NULL;
    if (dd) closedir(dd);
    return n;
}

static void test_save(void) {
    char dir[] = "/tmp/ds_config_doc_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/sat-configs/model_configs__txt2audio__stable_audio_1_0.json", tests_dir());
    snprintf(dst, sizeof dst, "%s/sa1.json", dir);
    ds_config_doc *d = NULL;
    ds_err err;
    CHECK(ds_config_doc_load(src, &d, NULL, NULL) == DS_OK);
    if (!d) return;
    /* load → save → load: same bytes, same struct */
    CHECK(ds_config_doc_save(d, dst, &err) == DS_OK);
    CHECK(!strcmp(ds_config_doc_path(d), dst) && !ds_config_doc_modified(d));
    size_t a_len, b_len;
    char *a = slurp(src, &a_len), *b = slurp(dst, &b_len);
    CHECK(a && b && a_len == b_len && !memcmp(a, b, a_len));
    free(a);
    free(b);
    ds_model_config *m1 = malloc(sizeof *m1), *m2 = malloc(sizeof *m2);
    CHECK(ds_model_config_load(src, m1, NULL, NULL) == DS_OK);
    CHECK(ds_model_config_load(dst, m2, NULL, NULL) == DS_OK);
    memcpy(m2->path, m1->path, sizeof m2->path);
    CHECK(!memcmp(m1, m2, sizeof *m1));

    /* edit, save, reload: positions describe the new file */
    CHECK(ds_config_doc_set_int(d, "model.diffusion.config.channels", 128, &err) == DS_OK);
    CHECK(ds_config_doc_save(d, NULL, &err) == DS_OK);
    ds_src_pos pos;
    CHECK(ds_config_doc_locate(d, "model.diffusion.config.channels", &pos) && pos.line > 1);
    CHECK(ds_model_config_load(dst, m2, NULL, NULL) == DS_OK && m2->adp.channels == 128);

    /* a failing write (disk full after 100 bytes) keeps the previous file, leaves no temp file */
    char *before = slurp(dst, &a_len);
    CHECK(ds_config_doc_set_int(d, "model.diffusion.config.channels", 64, &err) == DS_OK);
    ds_fileio_fail_after(100);
    CHECK(ds_config_doc_save(d, NULL, &err) == DS_ERR_IO);
    ds_fileio_fail_after(-1);
    CHECKF(strstr(err.msg, "previous file kept") != NULL, "%s", err.msg);
    char *after = slurp(dst, &b_len);
    CHECK(before && after && a_len == b_len && !memcmp(before, after, a_len));
    CHECK(count_tmp_files(dir) == 0);
    CHECK(ds_config_doc_modified(d)); /* the edit is still pending */
    CHECK(ds_config_doc_save(d, NULL, &err) == DS_OK);
    CHECK(ds_model_config_load(dst, m2, NULL, NULL) == DS_OK && m2->adp.channels == 64);
    free(before);
    free(after);
    free(m1);
    free(m2);
    ds_config_doc_free(d);
    unlink(dst);
    rmdir(dir);
}

int main(void) {
    test_positions();
    test_syntax_errors();
    test_diagnostics();
    test_round_trips();
    test_py_floats();
    test_editing();
    test_save();
    return tu_finish("test_config_doc");
}
