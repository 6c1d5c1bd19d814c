/* events.c -- one hf_client event callback, several listeners. */
#include "events.h"

#include <stddef.h>

#define EVENTS_MAX 8

static struct {
    events_fn *fn;
    void *arg;
} listeners[EVENTS_MAX];
static size_t nlisteners;
static hf_client *owner;

static void dispatch(void *arg, const hf_event *ev)
{
    (void)arg;
    for (size_t i = 0; i < nlisteners; i++)
        listeners[i].fn(listeners[i].arg, ev);
}

int events_add_listener(hf_client *c, events_fn *fn, void *arg)
{
    if (!c || !fn || nlisteners == EVENTS_MAX || (owner && owner != c))
        return -1;
    if (!owner) {
        if (hf_client_set_event_fn(c, dispatch, NULL) != HF_OK)
            return -1;
        owner = c;
    }
    listeners[nlisteners].fn = fn;
    listeners[nlisteners].arg = arg;
    nlisteners++;
    return 0;
}
