/*  test_config.c: the TOML subset parser and the configuration built on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "toml.h"

static const toml_entry_t *
s_entry(const toml_doc_t *doc, const char *table, const char *key)
{
    for (size_t i = 0; i < doc->count; i++)
        if (strcmp(doc->entries[i].table, table) == 0 && strcmp(doc->entries[i].key, key) == 0)
            return &doc->entries[i];
    return NULL;
}

static void
t_toml_values(void **state)
{
    const char *text =
        "# a comment\n"
        "top = 1\n"
        "[provider]\n"
        "name = \"Py\\\"lon \\u00e9\\U0001F600\"  # trailing comment\n"
        "path = 'C:\\raw'\n"
        "count = -1_000\n"
        "ratio = 2.5e-1\n"
        "on = true\n"
        "off = false\n"
        "list = [\n  \"a\",\n  \"b\", # c\n]\n"
        "dotted.key = 3\n"
        "map = { \"x:y\" = 1.5, z = 2 }\n"
        "[backends.llamacpp]\n"
        "url = \"http://h:1\"\r\n";
    toml_doc_t doc;
    char err[256];
    assert_int_equal(toml_parse(text, strlen(text), &doc, err, sizeof err), 0);
    assert_int_equal(s_entry(&doc, "", "top")->value.u.i, 1);
    assert_string_equal(s_entry(&doc, "provider", "name")->value.u.s, "Py\"lon \xc3\xa9\xf0\x9f\x98\x80");
    assert_string_equal(s_entry(&doc, "provider", "path")->value.u.s, "C:\\raw");
    assert_int_equal(s_entry(&doc, "provider", "count")->value.u.i, -1000);
    assert_true(s_entry(&doc, "provider", "ratio")->value.u.f == 0.25);
    assert_true(s_entry(&doc, "provider", "on")->value.u.b);
    assert_false(s_entry(&doc, "provider", "off")->value.u.b);
    const toml_entry_t *list = s_entry(&doc, "provider", "list");
    assert_int_equal(list->value.u.array.count, 2);
    assert_string_equal(list->value.u.array.items[1].u.s, "b");
    assert_int_equal(list->line, 10);
    assert_int_equal(s_entry(&doc, "provider.dotted", "key")->value.u.i, 3);
    assert_true(s_entry(&doc, "provider.map", "x:y")->value.u.f == 1.5);
    assert_int_equal(s_entry(&doc, "provider.map", "z")->value.u.i, 2);
    assert_string_equal(s_entry(&doc, "backends.llamacpp", "url")->value.u.s, "http://h:1");
    toml_free(&doc);
}

/* Each bad document fails with the line and the reason. */
static void
t_toml_errors(void **state)
{
    static const struct { const char *text; const char *error; } cases[] = {
        {"a = \"open\n", "line 1: unterminated string"},
        {"\n\na = \"\"\"multi\"\"\"\n", "line 3: multi-line strings are not supported"},
        {"a = 1\na = 2\n", "line 2: key 'a' is defined twice (first on line 1)"},
        {"a = 1 2\n", "line 1: unexpected '2' after the value"},
        {"a = 01\n", "line 1: leading zeros are not allowed in numbers"},
        {"a = 1__0\n", "line 1: '_' must stand between digits"},
        {"a = 99999999999999999999\n", "line 1: bad integer '99999999999999999999'"},
        {"a = inf\n", "line 1: expected a value (string, number, boolean or array)"},
        {"a = [1, [2]]\n", "line 1: nested arrays are not supported"},
        {"[[t]]\n", "line 1: arrays of tables are not supported"},
        {"a = \"\\q\"\n", "line 1: bad escape '\\q' in string"},
        {"a = \"\\uD800\"\n", "line 1: escape is not a Unicode scalar value"},
        {"a = 1979-05-27\n", "line 1: bad integer '1979-05-27'"},
        {"= 1\n", "line 1: expected a key"},
        {"a 1\n", "line 1: expected '=' after key"},
        {"a = \"\xc3\x28\"\n", "line 1: document is not valid UTF-8"},
        {"[t\n", "line 1: expected ']' after table name"},
        {"a = [1, 2\n", "line 2: expected ',' or ']' in array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        toml_doc_t doc;
        char err[256] = "";
        int rc = toml_parse(cases[i].text, strlen(cases[i].text), &doc, err, sizeof err);
        if (rc != -1 || strcmp(err, cases[i].error) != 0)
            fail_msg("case %zu: got rc %d, \"%s\"; want \"%s\"", i, rc, err, cases[i].error);
    }
    /* Inline tables nested deeper than any config needs: an error, where a document of a
       few hundred thousand levels would otherwise overflow the parser's stack. */
    size_t levels = 100;
    char *deep = malloc(4 + levels * 3 + 1 + levels + 1);
    size_t n = (size_t) sprintf(deep, "a = ");
    for (size_t i = 0; i < levels; i++)
        n += (size_t) sprintf(deep + n, "{a=");
    n += (size_t) sprintf(deep + n, "1");
    memset(deep + n, '}', levels);
    n += levels;
    toml_doc_t doc;
    char err[256] = "";
    assert_int_equal(toml_parse(deep, n, &doc, err, sizeof err), -1);
    assert_string_equal(err, "line 1: inline tables nested deeper than 16");
    free(deep);
}

static void
t_config_defaults_and_file(void **state)
{
    config_t cfg;
    config_defaults(&cfg);
    assert_string_equal(cfg.provider_name, "Pylon");
    assert_string_equal(cfg.wallet_backend, "demo");
    assert_int_equal(cfg.relay_urls.count, 3);
    char err[CONFIG_ERROR_MAX];
    assert_int_equal(config_validate(&cfg, err, sizeof err), 0);
    const char *text = "[provider]\nname = \"Mine\"\n[relays]\nurls = [\"ws://127.0.0.1:1\"]\n"
                       "[pricing]\nbase_price_sats = 3\nprice_per_1k_tokens = 2\n"
                       "backend_multipliers = { \"llamacpp:gpt_oss_120b\" = 2.5 }\n";
    assert_int_equal(config_apply_text(&cfg, "c.toml", text, strlen(text), err, sizeof err), 0);
    assert_string_equal(cfg.provider_name, "Mine");
    assert_int_equal(cfg.relay_urls.count, 1);
    assert_int_equal(cfg.base_price_sats, 3);
    assert_true(cfg.price_per_1k_tokens == 2.0);     /* an integer is a fine float */
    assert_true(config_backend_multiplier(&cfg, "llamacpp:gpt_oss_120b") == 2.5);
    assert_true(config_backend_multiplier(&cfg, "apple_fm") == 1.0);
    config_free(&cfg);
}

/* Errors name file, line and key. */
static void
t_config_errors(void **state)
{
    static const struct { const char *text; const char *error; } cases[] = {
        {"[provider]\nnam = \"x\"\n", "c.toml:2: key 'nam' in [provider]: unknown key"},
        {"\n[limits]\nmax_tokens = \"many\"\n",
         "c.toml:3: key 'max_tokens' in [limits]: expected integer, got string"},
        {"[relays]\nurls = [\"ws://a\", 3]\n",
         "c.toml:2: key 'urls' in [relays]: expected an array of strings, item 2 is integer"},
        {"[pricing]\nbackend_multipliers = 2\n",
         "c.toml:2: key 'backend_multipliers' in [pricing]: expected a table of numbers, e.g. { \"name\" = 1.5 }"},
        {"[nowhere]\nx = 1\n", "c.toml:2: key 'x' in [nowhere]: unknown key"},
        {"[provider]\nname = 'a\n", "c.toml: line 2: unterminated string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        config_t cfg;
        config_defaults(&cfg);
        char err[CONFIG_ERROR_MAX] = "";
        int rc = config_apply_text(&cfg, "c.toml", cases[i].text, strlen(cases[i].text), err, sizeof err);
        if (rc != -1 || strcmp(err, cases[i].error) != 0)
            fail_msg("case %zu: got rc %d, \"%s\"; want \"%s\"", i, rc, err, cases[i].error);
        config_free(&cfg);
    }
    /* Values of the right type but not allowed. */
    config_t cfg;
    config_defaults(&cfg);
    char err[CONFIG_ERROR_MAX];
    free(cfg.network);
    cfg.network = strdup("moon");
    assert_int_equal(config_validate(&cfg, err, sizeof err), -1);
    assert_string_equal(err, "[provider] network 'moon': use mainnet, testnet, signet or regtest");
    config_free(&cfg);
}

/* Environment overrides, and a file written by config_write loads back the same. */
static void
t_config_env_and_write(void **state)
{
    char dir[] = "/tmp/pylon-config-XXXXXX";
    assert_non_null(mkdtemp(dir));
    config_t cfg;
    config_defaults(&cfg);
    free(cfg.provider_name);
    cfg.provider_name = strdup("Quote \" and \\ and \x01");
    char path[256];
    snprintf(path, sizeof path, "%s/config.toml", dir);
    FILE *out = fopen(path, "w");
    config_write(out, &cfg);
    fclose(out);
    config_free(&cfg);

    setenv("PYLON_LLAMA_SERVER_URL", "http://127.0.0.1:9999", 1);
    setenv("PYLON_RELAYS", "ws://a:1,ws://b:2", 1);
    char err[CONFIG_ERROR_MAX];
    assert_int_equal(config_load(&cfg, dir, err, sizeof err), 0);
    assert_string_equal(cfg.provider_name, "Quote \" and \\ and \x01");
    assert_string_equal(cfg.llamacpp_url, "http://127.0.0.1:9999");
    assert_int_equal(cfg.relay_urls.count, 2);
    assert_string_equal(cfg.relay_urls.items[1], "ws://b:2");
    assert_null(config_endpoint(&cfg, "ledger"));
    config_free(&cfg);
    unsetenv("PYLON_LLAMA_SERVER_URL");
    unsetenv("PYLON_RELAYS");
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_toml_values),
        cmocka_unit_test(t_toml_errors),
        cmocka_unit_test(t_config_defaults_and_file),
        cmocka_unit_test(t_config_errors),
        cmocka_unit_test(t_config_env_and_write),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
