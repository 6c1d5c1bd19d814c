/* views.h -- --flow and --stat on the command line: the library's views
 * (hf_view_flow, hf_view_stat) printed to stderr, fitted to the terminal
 * (80 columns when stderr is not one), in colour when cli_color() says so.
 * The body on stdout is never touched. */
#ifndef HFLOW_VIEWS_H
#define HFLOW_VIEWS_H

#include "hflow.h"

/* --flow: from now on, collect every event of client c (through
 * cli/events.c), one list per connection; a connection's diagram is
 * ready when its CLOSED event arrives, a transfer that never connected
 * gets its own when it is done.  Calling it again does nothing. */
void cli_flow_enable(hf_client *c);
/* Prints the diagrams that are ready (after each transfer, so they come
 * after its progress meter and before its messages). */
void cli_flow_flush(void);
/* The end of the run, after hf_client_close_idle(): prints every diagram
 * still open (connections left idle, say) and stops collecting. */
void cli_flow_finish(void);

/* --stat: the waterfall of one transfer on stderr. */
void cli_stat_print(const hf_response *resp);

#endif
