/* get.c -- one GET with the blocking call.
 *
 *   get URL            the body on stdout, "STATUS REASON, N bytes, TYPE" on stderr
 *
 * hf_send runs the client's loop until the request is done.  It gives a
 * response even on failure (with the error's one-line message), so the
 * error path and the success path free the same three objects. */
#include <hflow.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    hf_client *c = hf_client_new();                /* loop, pool, DNS cache */
    hf_request *rq = hf_request_new("GET", argv[1]); /* copies both strings */
    if (!c || !rq) {
        fprintf(stderr, "get: out of memory\n");
        hf_request_free(rq);                       /* every _free takes NULL */
        hf_client_free(c);
        return 1;
    }
    hf_request_set_follow(rq, 10, 0);              /* curl -L --max-redirs 10 */
    hf_request_set_timeout_ms(rq, 10000);          /* curl -m 10 */

    hf_response *rs = NULL;
    hf_err e = hf_send(c, rq, &rs);                /* rs is ours to free */
    int rc = 0;
    if (e != HF_OK) {
        /* e.g. "(7) connect to 127.0.0.1:9: connection refused after 0.2 ms" */
        fprintf(stderr, "get: (%d) %s\n", (int)e,
                rs ? hf_response_errmsg(rs) : hf_strerror(e));
        rc = 1;
    } else {
        size_t len;
        const void *body = hf_response_body(rs, &len); /* borrowed from rs */
        const char *type = hf_response_header(rs, "Content-Type");
        fprintf(stderr, "%d %s, %zu bytes, %s\n", hf_response_status(rs),
                hf_response_reason(rs), len, type ? type : "no type");
        if (fwrite(body, 1, len, stdout) != len)
            rc = 1;
    }
    hf_response_free(rs);
    hf_request_free(rq);
    hf_client_free(c);
    return rc;
}
