/* post_json.c -- POST a JSON document and print the answer.
 *
 *   post_json URL [JSON]       default JSON: {"hello":"hflow"}
 *
 * The body is copied into the request (hf_request_body), so the request
 * can be sent again; Content-Length is set by hflow. */
#include <hflow.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URL [JSON]\n", argv[0]);
        return 2;
    }
    const char *doc = argc == 3 ? argv[2] : "{\"hello\":\"hflow\"}";
    hf_client *c = hf_client_new();
    hf_request *rq = hf_request_new("POST", argv[1]);
    hf_response *rs = NULL;
    int rc = 1;
    if (!c || !rq) {
        fprintf(stderr, "post_json: out of memory\n");
        goto out;
    }
    /* Each setter returns an hf_err: a bad header is HF_E_BAD_ARG. */
    hf_err e = hf_request_header(rq, "Content-Type", "application/json");
    if (!e)
        e = hf_request_header(rq, "Accept", "application/json");
    if (!e)
        e = hf_request_body(rq, doc, strlen(doc));
    if (e) {
        fprintf(stderr, "post_json: %s\n", hf_strerror(e));
        goto out;
    }
    e = hf_send(c, rq, &rs);
    if (e) {
        fprintf(stderr, "post_json: (%d) %s\n", (int)e,
                rs ? hf_response_errmsg(rs) : hf_strerror(e));
        goto out;
    }
    size_t len;
    const char *body = hf_response_body(rs, &len); /* NUL-terminated */
    printf("%d %s\n%s", hf_response_status(rs), hf_response_reason(rs), body);
    rc = hf_response_status(rs) < 400 ? 0 : 1;
out:
    hf_response_free(rs);
    hf_request_free(rq);
    hf_client_free(c);
    return rc;
}
