/* error.c -- the error values of include/hflow.h as strings. */
#include "hflow.h"

const char *hf_strerror(hf_err e)
{
    switch (e) {
#define HF_XX_STR(name, val, msg) case HF_E_##name: return msg;
    HF_ERRNO_MAP(HF_XX_STR)
#undef HF_XX_STR
    }
    return "unknown error";
}

const char *hf_err_name(hf_err e)
{
    switch (e) {
#define HF_XX_NAME(name, val, msg) case HF_E_##name: return #name;
    HF_ERRNO_MAP(HF_XX_NAME)
#undef HF_XX_NAME
    }
    return "UNKNOWN";
}
