/* test_netrc.c -- .netrc lookup (src/netrc.c).  Every text is handed over
 * as an exact-size heap copy with no NUL at the end, so ASan sees any read
 * past the length given. */
#include <stdlib.h>
#include <string.h>

#include "netrc.h"
#include "t.h"

static char *L, *PW;   /* the last results */

static int look_n(const char *s, size_t n, const char *host,
                  const char *hint)
{
    free(L);
    free(PW);
    L = PW = (char *)"junk";
    char *c = malloc(n ? n : 1);
    if (n) memcpy(c, s, n);
    int rc = netrc_lookup(c, n, host, hint, &L, &PW);
    free(c);
    if (rc != NETRC_FOUND) CHECK_MSG(!L && !PW, "results left on %d", rc);
    return rc;
}

static int look(const char *s, const char *host, const char *hint)
{
    return look_n(s, strlen(s), host, hint);
}

#define STR_OR_NULL(p) ((p) ? (p) : "(null)")
/* Found, with login l and password p (NULL: none). */
#define CHECK_FOUND(s, host, hint, l, p) do {                               \
        int rc_ = look(s, host, hint);                                      \
        const char *l_ = (l), *p_ = (p);                                    \
        CHECK_MSG(rc_ == NETRC_FOUND &&                                     \
                  (l_ ? L && !strcmp(L, l_) : !L) &&                        \
                  (p_ ? PW && !strcmp(PW, p_) : !PW),                       \
                  "rc %d login %s password %s", rc_, STR_OR_NULL(L),        \
                  STR_OR_NULL(PW));                                         \
    } while (0)

static void test_machines(void)
{
    const char *t = "machine a.com login alice password s1\n"
                    "machine b.com login bob password s2\n"
                    "machine a.com login carol password s3\n";
    CHECK_FOUND(t, "a.com", NULL, "alice", "s1");
    CHECK_FOUND(t, "b.com", NULL, "bob", "s2");
    CHECK_FOUND(t, "B.CoM", NULL, "bob", "s2");
    CHECK(look(t, "c.com", NULL) == NETRC_NOT_FOUND);
    CHECK(look(t, "a.co", NULL) == NETRC_NOT_FOUND);
    CHECK(look(t, "a.com.", NULL) == NETRC_NOT_FOUND);
    CHECK(look(t, "", NULL) == NETRC_NOT_FOUND);

    /* Layout: one entry over lines, tabs, CRLF, keywords in any case. */
    CHECK_FOUND("\r\n\tMACHINE\ta.com\r\n  Login  x\r\n\tPassWord\tp\r\n",
                "a.com", NULL, "x", "p");
    /* No trailing newline, and the text ends right after the password. */
    CHECK_FOUND("machine a login x password p", "a", NULL, "x", "p");
    /* The length given is the end, whatever follows in memory. */
    const char *cut = "machine a login x password secret";
    CHECK(look_n(cut, strlen(cut) - 2, "a", NULL) == NETRC_FOUND &&
          PW && !strcmp(PW, "secr"));
    CHECK(look_n(cut, 9, "a", NULL) == NETRC_FOUND && !L && !PW);
    CHECK(look_n(cut, 8, "a", NULL) == NETRC_E_SYNTAX);  /* "machine " */

    /* Entries without login or password; words before any machine. */
    CHECK_FOUND("machine a", "a", NULL, NULL, NULL);
    CHECK_FOUND("machine a password p", "a", NULL, NULL, "p");
    CHECK_FOUND("machine a login x", "a", NULL, "x", NULL);
    CHECK_FOUND("login x password p\nmachine a\n", "a", NULL, NULL, NULL);
    CHECK(look("login x password p\n", "a", NULL) == NETRC_NOT_FOUND);
    /* account and unknown words are skipped; the last value of a field
     * in an entry is kept. */
    CHECK_FOUND("machine a account acct port 21 login x password p1 "
                "password p2", "a", NULL, "x", "p2");
    CHECK_FOUND("machine a login password password login", "a", NULL,
                "password", "login");
    CHECK(look("", "a", NULL) == NETRC_NOT_FOUND);
    CHECK(look_n(NULL, 0, "a", NULL) == NETRC_NOT_FOUND);
    char *l = (char *)"x", *p = (char *)"y";
    CHECK(netrc_lookup(NULL, 0, "a", NULL, &l, &p) == NETRC_NOT_FOUND &&
          !l && !p);
    CHECK(netrc_lookup("machine a", 9, "a", NULL, NULL, &p) ==
          NETRC_NOT_FOUND && !p);
    CHECK(look("machine a login x", NULL, NULL) == NETRC_NOT_FOUND);
}

static void test_default(void)
{
    const char *t = "machine a login x password p\n"
                    "default login anonymous password guest@\n";
    CHECK_FOUND(t, "a", NULL, "x", "p");
    CHECK_FOUND(t, "z", NULL, "anonymous", "guest@");
    /* A default before a machine still loses to the machine. */
    t = "default login d password dp\nmachine a login x password p\n";
    CHECK_FOUND(t, "a", NULL, "x", "p");
    CHECK_FOUND(t, "z", NULL, "d", "dp");
    /* Two defaults: the first. */
    CHECK_FOUND("default login d1\ndefault login d2 password p2\n", "z", NULL,
                "d1", NULL);
    /* A default ends at the next machine: nothing flows across. */
    CHECK_FOUND("default login d\nmachine a password pa\n", "z", NULL,
                "d", NULL);
    CHECK_FOUND("default\nmachine a login x password p\n", "z", NULL,
                NULL, NULL);
}

/* SECURITY.md A.5: CVE-2024-11053 and CVE-2025-0167.  A password is only
 * ever taken from the entry chosen. */
static void test_no_borrowed_password(void)
{
    const char *t = "machine a login x password p\ndefault login y\n";
    CHECK_FOUND(t, "b", NULL, "y", NULL);
    CHECK_FOUND(t, "b", "y", "y", NULL);
    CHECK(look(t, "b", "x") == NETRC_NOT_FOUND);
    /* The same shapes with machine entries, and the other order. */
    CHECK_FOUND("machine a login x password p\nmachine b login y\n",
                "b", NULL, "y", NULL);
    CHECK_FOUND("machine b login y\nmachine a login x password p\n",
                "b", NULL, "y", NULL);
    CHECK_FOUND("machine a login x password p\nmachine b\n", "b", NULL,
                NULL, NULL);
    /* CVE-2025-0167: default with a login and no password. */
    CHECK_FOUND("machine a login u password secret\ndefault login u\n",
                "b", "u", "u", NULL);
    CHECK_FOUND("default login u\nmachine a login u password secret\n",
                "b", "u", "u", NULL);
    /* A matching machine without password does not take one from a later
     * entry for the same host. */
    CHECK_FOUND("machine a login u\nmachine a login u password later\n",
                "a", "u", "u", NULL);
    CHECK_FOUND("machine a login u\ndefault login u password dp\n",
                "a", NULL, "u", NULL);
}

static void test_login_hint(void)
{
    const char *t = "machine a login x password px\n"
                    "machine a login y password py\n"
                    "default login z password pz\n";
    CHECK_FOUND(t, "a", "x", "x", "px");
    CHECK_FOUND(t, "a", "y", "y", "py");
    CHECK_FOUND(t, "a", "z", "z", "pz");       /* no machine counts */
    CHECK(look(t, "a", "X") == NETRC_NOT_FOUND);  /* logins: exact */
    CHECK(look(t, "a", "w") == NETRC_NOT_FOUND);
    CHECK(look(t, "a", "") == NETRC_NOT_FOUND);
    CHECK_FOUND(t, "b", "z", "z", "pz");
    /* A login-less ("generic") entry counts for any login, as in curl,
     * unless an entry with the very login exists, before or after it. */
    t = "machine a login x password px\nmachine a password pg\n";
    CHECK_FOUND(t, "a", "y", NULL, "pg");
    CHECK_FOUND(t, "a", "x", "x", "px");
    CHECK_FOUND(t, "a", NULL, "x", "px");
    t = "machine a password pg\nmachine a login y password py\n"
        "machine a password pg2\n";
    CHECK_FOUND(t, "a", "y", "y", "py");
    CHECK_FOUND(t, "a", "z", NULL, "pg");
    CHECK_FOUND(t, "a", NULL, NULL, "pg");
    CHECK_FOUND("machine a password pg\ndefault login y password dp\n",
                "a", "y", NULL, "pg");
    /* The entry with the login and no password: no password at all. */
    CHECK_FOUND("machine a login y\nmachine a password pg\n", "a", "y",
                "y", NULL);
    CHECK_FOUND("machine a password pg\nmachine a login y\n", "a", "y",
                "y", NULL);
    CHECK_FOUND("machine a\nmachine a login y password py\n", "a", "y",
                "y", "py");
    CHECK_FOUND("machine a\nmachine a login y password py\n", "a", "z",
                NULL, NULL);
    CHECK_FOUND("default password dp\n", "q", "y", NULL, "dp");
}

static void test_macdef(void)
{
    /* A macro's lines are not tokens, up to the first empty line. */
    const char *t = "macdef init\ncd /pub\nmachine a login evil password ev\n"
                    "\nmachine a login good password ok\n";
    CHECK_FOUND(t, "a", NULL, "good", "ok");
    /* Inside an entry; the blank line may hold spaces, tabs, CR. */
    t = "machine a login x\nmacdef m \"unterminated\n password leak\n"
        " \t\r\npassword real\n";
    CHECK_FOUND(t, "a", NULL, "x", "real");
    /* CRLF file. */
    t = "machine a login x\r\nmacdef m\r\nmachine a password leak\r\n\r\n"
        "password real\r\n";
    CHECK_FOUND(t, "a", NULL, "x", "real");
    /* A macro to the end of the text (no empty line, no newline). */
    CHECK_FOUND("machine a login x\nmacdef m\npassword leak", "a", NULL,
                "x", NULL);
    CHECK_FOUND("machine a login x macdef", "a", NULL, "x", NULL);
    /* A NUL inside a macro is just a byte of the macro. */
    const char nul[] = "macdef m\nx\0y\n\nmachine a login x";
    CHECK(look_n(nul, sizeof nul - 1, "a", NULL) == NETRC_FOUND &&
          L && !strcmp(L, "x"));
}

static void test_quotes(void)
{
    CHECK_FOUND("machine \"a.com\" login \"user name\" "
                "password \"p\\\"a\\\\s\\ts\\n\\r\\q#\"", "a.com", NULL,
                "user name", "p\"a\\s\ts\n\rq#");
    CHECK_FOUND("machine a login \"\" password \"\"", "a", NULL, "", "");
    CHECK_FOUND("machine a login pa\"ss password x\"", "a", NULL, "pa\"ss",
                "x\"");
    /* Keywords may be quoted, as in curl. */
    CHECK_FOUND("machine a login x \"password\" y", "a", NULL, "x", "y");
    CHECK_FOUND("machine a login x \"machine\" b password p", "a", NULL,
                "x", NULL);
    CHECK_FOUND("machine a login x \"machine\" b password p", "b", NULL,
                NULL, "p");
    CHECK_FOUND("machine a login x \"#\" password p", "a", NULL, "x", "p");
    /* Syntax errors. */
    const char *bad[] = {
        "machine a login \"x",
        "machine a login \"x\ny\" password p",
        "machine a login \"x\\",
        "machine a login \"x\\\ny\"",
        "machine a login \"ab\"cd",
        "machine",
        "machine a login",
        "machine a login x password",
        "machine a account",
        "machine \"unterminated",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(look(bad[i], "a", NULL) == NETRC_E_SYNTAX, "%s", bad[i]);
    /* An error after the chosen entry is not reached; before it, it is. */
    CHECK_FOUND("machine a login x\nmachine b login \"oops", "a", NULL, "x",
                NULL);
    CHECK(look("machine b login \"oops\nmachine a login x", "a", NULL) ==
          NETRC_E_SYNTAX);
    /* ... and a default is only chosen at the end, so errors count. */
    CHECK(look("default login d\nmachine b login \"oops", "z", NULL) ==
          NETRC_E_SYNTAX);
    /* NUL bytes. */
    const char n1[] = "machine a login x\0y password p";
    CHECK(look_n(n1, sizeof n1 - 1, "a", NULL) == NETRC_E_SYNTAX);
    const char n2[] = "machine a login \"x\0y\" password p";
    CHECK(look_n(n2, sizeof n2 - 1, "a", NULL) == NETRC_E_SYNTAX);
    const char n3[] = "machine a login x\n\0";
    CHECK(look_n(n3, sizeof n3 - 1, "a", NULL) == NETRC_E_SYNTAX);
}

static void test_comments(void)
{
    CHECK(look("# machine a login x password p\n", "a", NULL) ==
          NETRC_NOT_FOUND);
    CHECK_FOUND("# machine a login x password p\nmachine a login y", "a",
                NULL, "y", NULL);
    CHECK_FOUND("machine a login x # password bad\n password good", "a",
                NULL, "x", "good");
    CHECK_FOUND("machine a login x #password bad", "a", NULL, "x", NULL);
    /* Where a value is expected, '#' is part of it; inside a word too. */
    CHECK_FOUND("machine a login #x password #p", "a", NULL, "#x", "#p");
    CHECK_FOUND("machine a login x#y password p#", "a", NULL, "x#y", "p#");
    CHECK_FOUND("  \t# \"unterminated in a comment\nmachine a", "a", NULL,
                NULL, NULL);
    CHECK_FOUND("machine a login x\n#", "a", NULL, "x", NULL);
}

static void test_huge(void)
{
    size_t big = 1u << 20;
    char *t = malloc(big + 64);
    /* A 4096-byte password is kept, 4097 is an error. */
    strcpy(t, "machine a login x password ");
    size_t off = strlen(t);
    memset(t + off, 'p', NETRC_MAX_TOKEN);
    CHECK(look_n(t, off + NETRC_MAX_TOKEN, "a", NULL) == NETRC_FOUND &&
          PW && strlen(PW) == NETRC_MAX_TOKEN);
    t[off + NETRC_MAX_TOKEN] = 'p';
    CHECK(look_n(t, off + NETRC_MAX_TOKEN + 1, "a", NULL) == NETRC_E_SYNTAX);
    /* Quoted: the limit counts the unescaped bytes. */
    strcpy(t, "machine a login x password \"");
    off = strlen(t);
    for (size_t i = 0; i < NETRC_MAX_TOKEN; i++) memcpy(t + off + 2 * i, "\\n", 2);
    t[off + 2 * NETRC_MAX_TOKEN] = '"';
    CHECK(look_n(t, off + 2 * NETRC_MAX_TOKEN + 1, "a", NULL) ==
          NETRC_FOUND && PW && strlen(PW) == NETRC_MAX_TOKEN);
    /* A huge host name in the file, and a huge host asked for. */
    strcpy(t, "machine ");
    memset(t + 8, 'h', big - 8);
    CHECK(look_n(t, big, "h", NULL) == NETRC_E_SYNTAX);
    t[big - 1] = '\0';
    CHECK(look_n("machine a", 9, t + 8, NULL) == NETRC_NOT_FOUND);
    /* A megabyte of whitespace and comments before the entry. */
    memset(t, ' ', big);
    for (size_t i = 0; i + 80 < big; i += 80) memcpy(t + i, "\n# c", 4);
    strcpy(t + big - 40, "\nmachine a login x password p");
    CHECK(look_n(t, strlen(t), "a", NULL) == NETRC_FOUND && PW &&
          !strcmp(PW, "p"));
    /* Many entries: the last one is found. */
    size_t n = 0;
    for (int i = 0; n + 64 < big; i++)
        n += (size_t)sprintf(t + n, "machine h%d login l%d password p%d\n",
                             i, i, i);
    n += (size_t)sprintf(t + n, "machine last login L password P");
    CHECK(look_n(t, n, "last", NULL) == NETRC_FOUND && PW &&
          !strcmp(PW, "P"));
    free(t);
}

int main(void)
{
    test_machines();
    test_default();
    test_no_borrowed_password();
    test_login_hint();
    test_macdef();
    test_quotes();
    test_comments();
    test_huge();
    free(L);
    free(PW);
    return T_END();
}
