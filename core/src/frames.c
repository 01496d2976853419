/* Python frames and their code objects: local names, function names,
 * files and lines, and the threads' stacks. */
#include "frames.h"

#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t tuple_item(ph_heap *h, uint64_t tuple, uint64_t i, uint64_t *n)
{
    int64_t len = 0;
    uint64_t item = 0;
    if (!ph_ptr_ok(tuple) || !ph_read_i64(h->r, tuple + 16, &len) || len < 0)
        return 0;
    if (n)
        *n = (uint64_t)len;
    if (i >= (uint64_t)len ||
        !ph_read_u64(h->r, tuple + (uint64_t)h->L->tuple_ob_item + 8 * i, &item))
        return 0;
    return item;
}

uint64_t ph_code_local_name(ph_heap *h, uint64_t code, uint64_t i)
{
    const ph_layout *L = h->L;
    uint64_t t = 0, n = 0;
    if (L->code_localsplusnames != PH_NONE) {
        ph_read_u64(h->r, code + (uint64_t)L->code_localsplusnames, &t);
        return tuple_item(h, t, i, NULL);
    }
    const int32_t parts[] = {L->code_varnames, L->code_cellvars, L->code_freevars};
    for (int p = 0; p < 3; p++) {
        if (!ph_read_u64(h->r, code + (uint64_t)parts[p], &t) || !ph_ptr_ok(t))
            return 0;
        n = 0;
        uint64_t name = tuple_item(h, t, i, &n);
        if (name)
            return name;
        if (i < n)
            return 0;
        i -= n;
    }
    return 0;
}

static void code_text(ph_heap *h, uint64_t code, int32_t off, char *buf, size_t cap)
{
    uint64_t s = 0;
    buf[0] = 0;
    if (off == PH_NONE || !ph_read_u64(h->r, code + (uint64_t)off, &s) || !ph_str_read(h, s, buf, cap))
        snprintf(buf, cap, "?");
}

void ph_frame_where(ph_heap *h, uint64_t frame, bool iframe, char *buf, size_t cap)
{
    const ph_layout *L = h->L;
    uint64_t code = 0;
    ph_read_u64(h->r, frame + (uint64_t)(iframe ? L->iframe_code : L->frame_code), &code);
    char func[128], file[256];
    int32_t first = 0;
    code_text(h, code, L->code_qualname != PH_NONE ? L->code_qualname : L->code_name, func,
              sizeof(func));
    code_text(h, code, L->code_filename, file, sizeof(file));
    ph_read(h->r, code + (uint64_t)L->code_firstlineno, &first, 4);
    snprintf(buf, cap, "%s (%s:%d)", func, file, (int)first);
}

uint64_t ph_thread_ident(ph_heap *h, uint64_t tstate)
{
    uint64_t id = 0;
    if (h->L->tstate_thread_id != PH_NONE)
        ph_read_u64(h->r, tstate + (uint64_t)h->L->tstate_thread_id, &id);
    return id;
}

ph_error *ph_threads_get(ph_heap *h, ph_threads **out)
{
    (void)h;
    *out = NULL;
    return ph_error_new(PH_ERR_ARGUMENT, 0, "thread listing is not written yet");
}

void ph_threads_free(ph_threads *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].frames);
    free(t->items);
    free(t->strings);
    free(t);
}
