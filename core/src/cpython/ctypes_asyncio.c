/* asyncio's C Future and Task (Modules/_asyncio.c, _asyncio.X; offsets from
 * the DWARF of each build's _asyncio module).  Their object fields, per
 * version (after a default build's header; the dict, where it is a field,
 * is the tp_dictoffset's, visited as the __dict__; 3.13+ manage it):
 *
 *     FutureObj_HEAD: fut_loop 16, fut_callback0 24, fut_context0 32,
 *       fut_callbacks 40, fut_exception 48, then
 *       3.8: fut_result 56, fut_source_tb 64 (basicsize 104)
 *       3.9: fut_result 56, fut_source_tb 64, fut_cancel_msg 72, and
 *         fut_cancelled_exc_state 112, a _PyErr_StackItem {exc_type 112,
 *         exc_value 120, exc_traceback 128, previous_item 136 (C)}
 *         (basicsize 144)
 *       3.10: fut_exception_tb 56, fut_result 64, fut_source_tb 72,
 *         fut_cancel_msg 80, and fut_cancelled_exc_state 120 {exc_type
 *         120, exc_value 128, exc_traceback 136} (basicsize 152)
 *       3.11, 3.12: fut_exception_tb 56 ... fut_cancel_msg 80,
 *         fut_cancelled_exc 120 (basicsize 128)
 *       3.13: fut_exception_tb 56 ... fut_cancel_msg 80, fut_cancelled_exc
 *         88 (basicsize 104)
 *       3.14: the same, then fut_awaited_by 96 (a set, or one future)
 *         (basicsize 112)
 *     TaskObj: the head, then task_fut_waiter, task_coro, task_name,
 *       task_context at 104 (3.8), 144 (3.9), 152 (3.10), 128 (3.11,
 *       3.12), 112 (3.13), 120 (3.14: then task_node 152, the links of
 *       the thread's list of tasks, C)
 *     _asyncio.FutureIter (futureiterobject): future 16; basicsize 24
 *     TaskStepMethWrapper (3.12+: _asyncio.TaskStepMethWrapper): sw_task
 *       16, sw_arg 24; basicsize 32
 *     TaskWakeupMethWrapper (3.8, 3.9): ww_task 16; basicsize 24
 *
 * No __sizeof__: basicsize. */
#include "cpython/ctypes.h"

static const ph_cfield head_38[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<result>"},   {64, "<source_traceback>"}, {0, NULL}};
static const ph_cfield head_39[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<result>"},   {64, "<source_traceback>"},
    {72, "<cancel_message>"}, {112, "<cancelled_exc_type>"}, {120, "<cancelled_exc_value>"},
    {128, "<cancelled_exc_traceback>"}, {0, NULL}};
static const ph_cfield head_310[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<exception_tb>"}, {64, "<result>"}, {72, "<source_traceback>"},
    {80, "<cancel_message>"}, {120, "<cancelled_exc_type>"}, {128, "<cancelled_exc_value>"},
    {136, "<cancelled_exc_traceback>"}, {0, NULL}};
static const ph_cfield head_311[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<exception_tb>"}, {64, "<result>"}, {72, "<source_traceback>"},
    {80, "<cancel_message>"}, {120, "<cancelled_exc>"}, {0, NULL}};
static const ph_cfield head_313[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<exception_tb>"}, {64, "<result>"}, {72, "<source_traceback>"},
    {80, "<cancel_message>"}, {88, "<cancelled_exc>"}, {0, NULL}};
static const ph_cfield head_314[] = {
    {16, "<loop>"},     {24, "<callback0>"}, {32, "<context0>"}, {40, "<callbacks>"},
    {48, "<exception>"}, {56, "<exception_tb>"}, {64, "<result>"}, {72, "<source_traceback>"},
    {80, "<cancel_message>"}, {88, "<cancelled_exc>"}, {96, "<awaited_by>"}, {0, NULL}};

static const ph_cfield *head(int minor)
{
    return minor <= 8    ? head_38
           : minor == 9  ? head_39
           : minor == 10 ? head_310
           : minor <= 12 ? head_311
           : minor == 13 ? head_313
                         : head_314;
}

static void future_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                             void *payload)
{
    (void)t;
    ph_ctype_fields(h, addr, head(h->L->minor), visit, payload);
}

static void task_referents(ph_heap *h, uint64_t addr, const ph_type *t, ph_visit_fn *visit,
                           void *payload)
{
    (void)t;
    int minor = h->L->minor;
    ph_ctype_fields(h, addr, head(minor), visit, payload);
    uint32_t at = minor <= 8    ? 104
                  : minor == 9  ? 144
                  : minor == 10 ? 152
                  : minor <= 12 ? 128
                  : minor == 13 ? 112
                                : 120;
    const ph_cfield task[] = {{at, "<fut_waiter>"}, {at + 8, "<coro>"}, {at + 16, "<name>"},
                              {at + 24, "<context>"}, {0, NULL}};
    ph_ctype_fields(h, addr, task, visit, payload);
}

static const ph_cfield futureiter_fields[] = {{16, "<future>"}, {0, NULL}};
static const ph_cfield step_fields[] = {{16, "<task>"}, {24, "<arg>"}, {0, NULL}};
static const ph_cfield wakeup_fields[] = {{16, "<task>"}, {0, NULL}};

PH_CTYPE_FIELDS(futureiter_referents, futureiter_fields)
PH_CTYPE_FIELDS(step_referents, step_fields)
PH_CTYPE_FIELDS(wakeup_referents, wakeup_fields)

const ph_ctype ph_ctypes_asyncio[] = {
    {"_asyncio.FutureIter", 24, futureiter_referents, NULL},
    {"TaskStepMethWrapper", 32, step_referents, NULL},
    {"_asyncio.TaskStepMethWrapper", 32, step_referents, NULL},
    {"TaskWakeupMethWrapper", 24, wakeup_referents, NULL},
    {"_asyncio.Future", 104, future_referents, NULL},
    {"_asyncio.Task", 144, task_referents, NULL},
    {NULL, 0, NULL, NULL},
};
