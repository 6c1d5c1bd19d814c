/* download.h -- where a download goes and whether it may go on: -O names,
 * -J (Content-Disposition, RFC 6266) names reduced to a safe base name,
 * --output-dir, --create-dirs, the -C resume checks (Content-Range), and
 * the URL a -T upload goes to. */
#ifndef HFLOW_DOWNLOAD_H
#define HFLOW_DOWNLOAD_H

#include <stdint.h>

#include "hflow.h"

/* -O: the last segment of the URL's path (query and fragment ignored),
 * or NULL with why set when it cannot be a file name.  free() it. */
char *dl_remote_name(const char *url, const char **why);

/* dir "/" name (name alone when dir is NULL or empty).  free() it. */
char *dl_join(const char *dir, const char *name);

/* --create-dirs: creates the missing directories above path, mode 0750
 * (as curl).  Returns 0, or the errno of the failure with the directory
 * that could not be made in *failed (free() it). */
int dl_mkdirs(const char *path, char **failed);

/* -J: the file name a Content-Disposition value offers: filename*
 * (RFC 8187, UTF-8 or ISO-8859-1) before filename; only its base name
 * (after the last '/' or '\\'), never "", "." or "..", a name starting
 * with "..", nor one with control bytes; NULL when there is none.
 * free() it. */
char *dl_cd_filename(const char *value);

/* The first byte of a "bytes FIRST-LAST/LENGTH" Content-Range, or -1. */
int64_t dl_content_range_first(const char *value);

/* -C: what a response to a Range request for bytes offset- means. */
enum {
    DL_RESUME_APPEND = 0, /* 206 from offset (or no body): append it */
    DL_RESUME_DONE,       /* 416, or exactly offset bytes: the file is
                           * already complete; write nothing (curl) */
    DL_RESUME_BAD         /* the range was ignored: curl's error 33 */
};
int dl_resume_check(const hf_response *resp, int64_t offset, int head);

/* -T FILE to a URL whose path is empty or ends in '/': the URL with FILE's
 * base name appended, percent-encoded (curl).  NULL when the URL stays as
 * it is (it names a file, or FILE is standard input).  free() it. */
char *dl_upload_url(const char *url, const char *file);

#endif
