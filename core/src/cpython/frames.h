/* Python frames and their code: names, files, lines (frames.c). */
#ifndef PH_FRAMES_H
#define PH_FRAMES_H

#include "heap/heap.h"

/* The str object naming slot i of a frame's fast locals ("localsplus":
 * locals, then cell variables, then free variables), 0 when unknown. */
uint64_t ph_code_local_name(ph_heap *h, uint64_t code, uint64_t i);

/* Writes "function (file:line)" for a frame: a frame object (3.8-3.10,
 * iframe false) or a _PyInterpreterFrame (3.11+, iframe true).  The line is
 * the one executing when it can be told, else the function's first line. */
void ph_frame_where(ph_heap *h, uint64_t frame, bool iframe, char *buf, size_t cap);

/* CPython's PyCode_Addr2Line for 3.minor: the line of the instruction at
 * byte offset `offset` of a code object whose line table (co_lnotab on
 * 3.8/3.9, co_linetable after) is table[0, len).  first_line when offset is
 * negative (the frame has not started), -1 when the table gives no line. */
int ph_line_for_offset(int minor, const uint8_t *table, size_t len, int first_line, int64_t offset);

/* The thread id (threading.get_ident()) of a PyThreadState, 0 if unreadable. */
uint64_t ph_thread_ident(ph_heap *h, uint64_t tstate);

#endif
