/* A frame's local variables (threads --locals): the name and the object of
 * each fast local that holds one, cells and free variables included, found
 * by visiting the frame's references as the graph does and keeping those
 * labelled as locals. */
#include "base/error.h"
#include "base/vec.h"
#include "cpython/reference.h"
#include "heap/heap.h"
#include "analyses/labels.h"

#include <stdlib.h>
#include <string.h>

typedef struct locals_state {
    ph_frame_local *v;
    size_t n, cap;
    ph_error *err;
} locals_state;

static uint32_t visit_local(ph_heap *h, const ph_ref *ref, void *payload)
{
    locals_state *st = payload;
    const uint64_t addr = ref->addr;
    uint32_t id = ph_index_find(&h->idx, addr);
    if (st->err || ref->label.kind != EDGE_LOCAL)
        return id;
    char text[300];
    ph_label l = ref->label;
    ph_label_text(h, &l, addr, text, sizeof(text));
    /* "<local 'name'>" */
    size_t len = strlen(text);
    const char *name = text;
    if (len > 10 && strncmp(text, "<local '", 8) == 0 && strcmp(text + len - 2, "'>") == 0) {
        text[len - 2] = '\0';
        name = text + 8;
    }
    if (!PH_VEC_RESERVE(st->v, st->cap, st->n + 1, 1 << 16)) {
        st->err = PH_NOMEM;
        return id;
    }
    char *copy = strdup(name);
    if (!copy) {
        st->err = PH_NOMEM;
        return id;
    }
    st->v[st->n++] = (ph_frame_local){.name = copy, .address = addr};
    return id;
}

ph_error *ph_frame_locals(ph_heap *h, uint64_t frame, ph_frame_locals_list **out)
{
    *out = NULL;
    locals_state st = {0};
    uint64_t skipped = h->skipped;
    bool lab = h->labelling;
    h->labelling = true;
    if (h->L->frame_frame != PH_NONE) {
        ph_frame_referents(h, frame, visit_local, &st);   /* 3.11+: a _PyInterpreterFrame */
    } else {
        uint32_t id = ph_index_find(&h->idx, frame);     /* 3.8-3.10: a frame object */
        if (id != PH_NO_OBJ)
            ph_referents(h, id, visit_local, &st);
    }
    h->labelling = lab;
    h->skipped = skipped;
    ph_frame_locals_list *l = st.err ? NULL : calloc(1, sizeof(*l));
    if (!l) {
        for (size_t i = 0; i < st.n; i++)
            free((char *)st.v[i].name);
        free(st.v);
        return st.err ? st.err : PH_NOMEM;
    }
    l->items = st.v;
    l->n = st.n;
    *out = l;
    return NULL;
}

void ph_frame_locals_free(ph_frame_locals_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->items[i].name);
    free(l->items);
    free(l);
}
