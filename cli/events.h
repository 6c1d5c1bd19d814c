/* events.h -- the client's event stream (hf_client_set_event_fn) shared by
 * several listeners: --trace-json (cli/record.c) and --flow each add one;
 * the library has a single callback slot, so this file owns it. */
#ifndef HFLOW_EVENTS_H
#define HFLOW_EVENTS_H

#include "hflow.h"

typedef void events_fn(void *arg, const hf_event *ev);

/* Adds fn to the listeners of c's events (called in the order added, for
 * every event of every transfer and connection, teardown included; the
 * event is borrowed for the call).  The first call installs the
 * dispatcher as c's event callback.  One client per process.  Returns 0,
 * or -1 when the table (8 listeners) is full or c differs from the first
 * client's. */
int events_add_listener(hf_client *c, events_fn *fn, void *arg);

#endif
