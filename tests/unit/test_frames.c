/* Threads and their frames: CPython's line tables (PyCode_Addr2Line of
 * every version) and the stacks of threads in synthetic images, with the
 * bounds that keep a corrupt stack from running away.
 *
 * The line tables below are sample.__code__'s co_lnotab (3.8/3.9) or
 * co_linetable (3.10+) in /root/.pyenv/versions/3.{8.18,9.18,10.13,11.7,
 * 12.1,13.0}/bin/python3 and /var/cache/probe-heap/python-3.14.7/bin/python3.14
 * (tools/build-pythons), compiled from
 *
 *     def sample(n, path):
 *         total = 0
 *         for i in range(n):
 *             if i % 2:
 *                 total += i
 *             else:
 *                 total -= 1
 *         with open(path) as f:
 *             total += len(f.read())
 *         try:
 *             total //= n
 *         except ZeroDivisionError as e:
 *             total = len(str(e))
 *         (300 empty lines)
 *         return (total +
 *                 n)
 *
 * (first line 1, so the return is on lines 314-315).  LINES_<minor>[k] is
 * ctypes.pythonapi.PyCode_Addr2Line(sample.__code__, 2 * k - 2) in the same
 * interpreter: CPython's own answer for every code unit, from -2 (a frame
 * not started) to the end.  The gap makes the line deltas overflow a byte;
 * `except ... as e` makes 3.10+ emit entries with no line (-1). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cpython/frames.h"
#include "versions.h"

/* 3.8.18: sample.__code__ */
static const uint8_t TABLE_8[] = {
    0x00, 0x01, 0x04, 0x01, 0x0c, 0x01, 0x08, 0x01, 0x0a, 0x02, 0x0a, 0x01, 0x0a, 0x01, 0x1a,
    0x01, 0x02, 0x01, 0x0c, 0x01, 0x10, 0x01, 0x1e, 0x7f, 0x00, 0x7f, 0x00, 0x2f, 0x02, 0x01,
    0x02, 0xff
};
static const int LINES_8[] = {
    1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 314, 315, 314, 314
};
/* 3.9.18: sample.__code__ */
static const uint8_t TABLE_9[] = {
    0x00, 0x01, 0x04, 0x01, 0x0c, 0x01, 0x08, 0x01, 0x0a, 0x02, 0x0a, 0x01, 0x0a, 0x01, 0x2e,
    0x01, 0x02, 0x01, 0x0c, 0x01, 0x0e, 0x01, 0x22, 0x7f, 0x00, 0x7f, 0x00, 0x2f, 0x02, 0x01,
    0x02, 0xff
};
static const int LINES_9[] = {
    1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 11, 11, 11, 11, 11, 11, 12,
    12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    314, 315, 314, 314
};
/* 3.10.13: sample.__code__ */
static const uint8_t TABLE_10[] = {
    0x04, 0x01, 0x0c, 0x01, 0x08, 0x01, 0x0a, 0x01, 0x0a, 0x02, 0x0a, 0x01, 0x12, 0x01, 0x1c,
    0xff, 0x02, 0x02, 0x0a, 0x01, 0x00, 0x7f, 0x00, 0x7f, 0x02, 0x31, 0x02, 0x01, 0x04, 0xff,
    0x00, 0x81, 0x00, 0x81, 0x0e, 0xd0, 0x16, 0x01, 0x00, 0x7f, 0x00, 0x7f, 0x02, 0x2f, 0x02,
    0x01, 0x04, 0xff, 0x08, 0x80, 0x00, 0x81, 0x00, 0x81, 0x02, 0xd0
};
static const int LINES_10[] = {
    1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 10, 11, 11, 11, 11, 11, 314,
    315, 314, 314, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 314,
    315, 314, 314, -1, -1, -1, -1, 12
};
/* 3.11.7: sample.__code__ */
static const uint8_t TABLE_11[] = {
    0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdd, 0x0d, 0x12, 0x90, 0x31, 0x89, 0x58, 0x8c,
    0x58, 0xf0, 0x00, 0x04, 0x05, 0x17, 0xf0, 0x00, 0x04, 0x05, 0x17, 0x88, 0x01, 0xd8, 0x0b,
    0x0c, 0x88, 0x71, 0x89, 0x35, 0xf0, 0x00, 0x03, 0x09, 0x17, 0xd8, 0x0c, 0x11, 0x90, 0x51,
    0x89, 0x4a, 0x88, 0x45, 0x88, 0x45, 0xe0, 0x0c, 0x11, 0x90, 0x51, 0x89, 0x4a, 0x88, 0x45,
    0x88, 0x45, 0xdd, 0x09, 0x0d, 0x88, 0x64, 0x89, 0x1a, 0x8c, 0x1a, 0xf0, 0x00, 0x01, 0x05,
    0x1f, 0x90, 0x71, 0xd8, 0x08, 0x0d, 0x95, 0x13, 0x90, 0x51, 0x97, 0x56, 0x92, 0x56, 0x91,
    0x58, 0x94, 0x58, 0x91, 0x1d, 0x94, 0x1d, 0xd1, 0x08, 0x1e, 0x88, 0x05, 0xf0, 0x03, 0x01,
    0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf1, 0x00, 0x01,
    0x05, 0x1f, 0xf4, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01,
    0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01,
    0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf8, 0xf8, 0xf8, 0xf0, 0x00, 0x01, 0x05, 0x1f,
    0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05, 0x1f,
    0xf0, 0x04, 0x03, 0x05, 0x1c, 0xd8, 0x08, 0x0d, 0x90, 0x21, 0x89, 0x0b, 0x88, 0x05, 0x88,
    0x05, 0xf8, 0xdd, 0x0b, 0x1c, 0xf0, 0x00, 0x01, 0x05, 0x1c, 0xf0, 0x00, 0x01, 0x05, 0x1c,
    0xf0, 0x00, 0x01, 0x05, 0x1c, 0xdd, 0x10, 0x13, 0x95, 0x43, 0x98, 0x01, 0x91, 0x46, 0x94,
    0x46, 0x91, 0x0b, 0x94, 0x0b, 0x88, 0x05, 0x88, 0x05, 0x88, 0x05, 0x88, 0x05, 0x88, 0x05,
    0x88, 0x05, 0xf8, 0xf8, 0xf8, 0xf8, 0xf0, 0x03, 0x01, 0x05, 0x1c, 0xf8, 0xf8, 0xf8, 0xf0,
    0x5c, 0x09, 0x00, 0x0d, 0x12, 0xd8, 0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00,
    0x01, 0x05, 0x0f
};
static const int LINES_11[] = {
    1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5,
    5, 7, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, -1, -1, -1, 8, 8, 8, 8, 10, 11, 11, 11, 11, 11, 11,
    -1, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, -1, -1, -1,
    -1, 12, -1, -1, -1, 314, 315, 314, 314, 314
};
/* 3.12.1: sample.__code__ */
static const uint8_t TABLE_12[] = {
    0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdc, 0x0d, 0x12, 0x90, 0x31, 0x8b, 0x58, 0xf2,
    0x00, 0x04, 0x05, 0x17, 0x88, 0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x8a, 0x35, 0xd8, 0x0c,
    0x11, 0x90, 0x51, 0x89, 0x4a, 0x89, 0x45, 0xe0, 0x0c, 0x11, 0x90, 0x51, 0x89, 0x4a, 0x89,
    0x45, 0xf0, 0x09, 0x04, 0x05, 0x17, 0xf4, 0x0a, 0x00, 0x0a, 0x0e, 0x88, 0x64, 0x8b, 0x1a,
    0xf0, 0x00, 0x01, 0x05, 0x1f, 0x90, 0x71, 0xd8, 0x08, 0x0d, 0x94, 0x13, 0x90, 0x51, 0x97,
    0x56, 0x91, 0x56, 0x93, 0x58, 0x93, 0x1d, 0xd1, 0x08, 0x1e, 0x88, 0x05, 0xf7, 0x03, 0x01,
    0x05, 0x1f, 0xf0, 0x04, 0x03, 0x05, 0x1c, 0xd8, 0x08, 0x0d, 0x90, 0x21, 0x89, 0x0b, 0x88,
    0x05, 0xf0, 0x5e, 0x09, 0x00, 0x0d, 0x12, 0xd8, 0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d, 0x0e,
    0xf0, 0x00, 0x01, 0x05, 0x0f, 0xf7, 0x65, 0x09, 0x01, 0x05, 0x1f, 0xf0, 0x00, 0x01, 0x05,
    0x1f, 0xfb, 0xf4, 0x08, 0x00, 0x0c, 0x1d, 0xf2, 0x00, 0x01, 0x05, 0x1c, 0xdc, 0x10, 0x13,
    0x94, 0x43, 0x98, 0x01, 0x93, 0x46, 0x93, 0x0b, 0x8c, 0x05, 0xf0, 0x5a, 0x09, 0x00, 0x0d,
    0x12, 0xd8, 0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0xfb,
    0xf0, 0x5d, 0x09, 0x01, 0x05, 0x1c, 0xfa
};
static const int LINES_12[] = {
    1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 7, 7,
    7, 7, 7, 7, 3, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 10, 11, 11, 11, 11, 11,
    314, 315, 314, 314, 314, 8, 8, 8, 8, 8, 8, 8, 8, 8, -1, -1, -1, -1, 12, 12, 12, 12, 12, 12,
    12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 314, 315, 314, 314, 314, -1, -1, -1, -1, 12, -1, -1, -1
};
/* 3.13.0: sample.__code__ */
static const uint8_t TABLE_13[] = {
    0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdc, 0x0d, 0x12, 0x90, 0x31, 0x8e, 0x58, 0x88,
    0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x8f, 0x35, 0xd8, 0x0c, 0x11, 0x89, 0x4a, 0x8a, 0x45,
    0xe0, 0x0c, 0x11, 0x90, 0x51, 0x89, 0x4a, 0x8a, 0x45, 0xf1, 0x09, 0x00, 0x0e, 0x16, 0xf4,
    0x0a, 0x00, 0x0a, 0x0e, 0x88, 0x64, 0x8c, 0x1a, 0x90, 0x71, 0xd8, 0x08, 0x0d, 0x94, 0x13,
    0x90, 0x51, 0x97, 0x56, 0x91, 0x56, 0x93, 0x58, 0x93, 0x1d, 0xd1, 0x08, 0x1e, 0x88, 0x05,
    0xf7, 0x03, 0x00, 0x0a, 0x14, 0xf0, 0x04, 0x03, 0x05, 0x1c, 0xd8, 0x08, 0x0d, 0x89, 0x0b,
    0x88, 0x05, 0xf0, 0x5e, 0x09, 0x00, 0x0d, 0x12, 0xd8, 0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d,
    0x0e, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0xf7, 0x65, 0x09, 0x00, 0x0a, 0x14, 0x8d, 0x1a, 0xfb,
    0xf4, 0x08, 0x00, 0x0c, 0x1d, 0xf3, 0x00, 0x01, 0x05, 0x1c, 0xdc, 0x10, 0x13, 0x94, 0x43,
    0x98, 0x01, 0x93, 0x46, 0x93, 0x0b, 0x8c, 0x05, 0xf0, 0x5a, 0x09, 0x00, 0x0d, 0x12, 0xd8,
    0x0c, 0x0d, 0xf1, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0xfb, 0xf0, 0x5d,
    0x09, 0x01, 0x05, 0x1c, 0xfa
};
static const int LINES_13[] = {
    1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5,
    5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 3, 3, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 10,
    11, 11, 11, 11, 314, 315, 314, 314, 314, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, -1, -1,
    -1, -1, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 314, 315, 314, 314, 314, -1, -1, -1, -1, 12,
    -1, -1, -1
};

/* 3.14.7: sample.__code__ */
static const uint8_t TABLE_14[] = {
    0x80, 0x00, 0xd8, 0x0c, 0x0d, 0x80, 0x45, 0xdc, 0x0d, 0x12, 0x90, 0x31, 0x8e, 0x58, 0x88,
    0x01, 0xd8, 0x0b, 0x0c, 0x88, 0x71, 0x8f, 0x35, 0x8c, 0x35, 0xd8, 0x0c, 0x11, 0x8d, 0x4a,
    0x8a, 0x45, 0xe0, 0x0c, 0x11, 0x90, 0x51, 0x8d, 0x4a, 0x8a, 0x45, 0xf1, 0x09, 0x00, 0x0e,
    0x16, 0xf4, 0x0a, 0x00, 0x0a, 0x0e, 0x88, 0x64, 0x8f, 0x1a, 0x8c, 0x1a, 0x90, 0x71, 0xd8,
    0x08, 0x0d, 0x94, 0x13, 0x90, 0x51, 0x97, 0x56, 0x91, 0x56, 0x93, 0x58, 0x93, 0x1d, 0xd5,
    0x08, 0x1e, 0x88, 0x05, 0xf7, 0x03, 0x00, 0x0a, 0x14, 0xf0, 0x04, 0x03, 0x05, 0x1c, 0xd8,
    0x08, 0x0d, 0x8d, 0x0b, 0x88, 0x05, 0xf0, 0x5e, 0x09, 0x00, 0x0d, 0x12, 0xd8, 0x0c, 0x0d,
    0xf5, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00, 0x01, 0x05, 0x0f, 0xf7, 0x65, 0x09, 0x00, 0x0a,
    0x14, 0x8f, 0x1a, 0xfb, 0xf4, 0x08, 0x00, 0x0c, 0x1d, 0xf4, 0x00, 0x01, 0x05, 0x1c, 0xdc,
    0x10, 0x13, 0x94, 0x43, 0x98, 0x01, 0x93, 0x46, 0x93, 0x0b, 0x8c, 0x05, 0xf0, 0x5a, 0x09,
    0x00, 0x0d, 0x12, 0xd8, 0x0c, 0x0d, 0xf5, 0x03, 0x01, 0x0d, 0x0e, 0xf0, 0x00, 0x01, 0x05,
    0x0f, 0xfb, 0xf0, 0x5d, 0x09, 0x01, 0x05, 0x1c, 0xfa
};
static const int LINES_14[] = {
    1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 3, 3, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8, 10, 11, 11, 11, 11, 11, 11, 11, 11,
    314, 315, 314, 314, 314, 314, 314, 314, 314, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    -1, -1, -1, -1, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 314, 315, 314, 314, 314, 314, 314, 314,
    314, -1, -1, -1, -1, 12, -1, -1, -1
};

typedef struct vector {
    const uint8_t *table;
    size_t len;
    const int *lines;
    size_t nlines;
} vector;

#define VEC(m) {TABLE_##m, sizeof(TABLE_##m), LINES_##m, sizeof(LINES_##m) / sizeof(int)}
static const vector VECTORS[NV] = {VEC(8), VEC(9), VEC(10), VEC(11), VEC(12), VEC(13), VEC(14)};

/* The offset (bytes, from -2) of the first code unit CPython puts on `line`. */
static int64_t offset_of_line(const vector *v, int line)
{
    for (size_t k = 0; k < v->nlines; k++)
        if (v->lines[k] == line)
            return (int64_t)k * 2 - 2;
    fail_msg("no code unit on line %d", line);
    return 0;
}

/* ---- line tables ------------------------------------------------------------------- */

static void test_line_tables_match_cpython(void **state)
{
    FOR_EACH_VERSION(i) {
        const vector *v = &VECTORS[i];
        int nolines = 0;
        for (size_t k = 0; k < v->nlines; k++) {
            int got = ph_line_for_offset(MINORS[i], v->table, v->len, 1, (int64_t)k * 2 - 2);
            if (got != v->lines[k])
                fail_msg("3.%d offset %d: line %d, CPython says %d", MINORS[i], (int)k * 2 - 2,
                         got, v->lines[k]);
            nolines += got == -1;
        }
        assert_int_equal(nolines > 0, MINORS[i] >= 10); /* the vectors do cover "no line" */
        /* past the end of the table: no line, never a read past it */
        assert_int_equal(ph_line_for_offset(MINORS[i], v->table, v->len, 1, 1 << 20),
                         MINORS[i] <= 9 ? v->lines[v->nlines - 1] : -1);
    }
}

/* Every truncation of every table, in a buffer of exactly its size (ASan
 * sees a read past it), and tables of garbage: an answer, promptly. */
static void test_line_tables_bounded(void **state)
{
    FOR_EACH_VERSION(i) {
        const vector *v = &VECTORS[i];
        for (size_t n = 0; n <= v->len; n++) {
            uint8_t *t = malloc(n ? n : 1);
            assert_non_null(t);
            memcpy(t, v->table, n);
            for (size_t k = 0; k < v->nlines; k++) {
                int got = ph_line_for_offset(MINORS[i], t, n, 1, (int64_t)k * 2 - 2);
                assert_true(got == -1 || (got >= 1 && got <= 400));
            }
            free(t);
        }
        static uint8_t ones[4096], zeros[4096];
        memset(ones, 0xff, sizeof(ones));
        assert_true(ph_line_for_offset(MINORS[i], zeros, sizeof(zeros), 1, INT32_MAX) <= 1);
        ph_line_for_offset(MINORS[i], ones, sizeof(ones), 1, INT32_MAX);
        /* 3.11+: a varint whose continuation bits never end */
        uint8_t longv[] = {0x80 | (14 << 3), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f};
        if (MINORS[i] >= 11)
            assert_int_equal(ph_line_for_offset(MINORS[i], longv, sizeof(longv), 1, 0), -1);
    }
}

/* ---- threads in a synthetic image ---------------------------------------------------------- */

typedef struct threads_image {
    img im;
    ph_heap *h;
    uint64_t interp;
    uint64_t code_type, bytes_type, frame_type;
    uint64_t code;          /* sample.__code__ */
    uint64_t prev_ts;       /* the last thread added (the list head is the newest) */
} threads_image;

static uint64_t bytes_obj(threads_image *t, const void *data, size_t n)
{
    const ph_layout *L = t->im.L;
    uint64_t b = img_object(&t->im, t->bytes_type, (size_t)L->bytes_sval + n + 1, false, false);
    img_w64(&t->im, b + 16, n);
    memcpy(img_at(&t->im, b + (uint64_t)L->bytes_sval, n ? n : 1), data, n);
    return b;
}

/* A code object named name in file "sample.py", first line 1, with the
 * version's sample table and as many code units as it covers. */
static uint64_t code_obj(threads_image *t, int i, const char *name)
{
    img *im = &t->im;
    const ph_layout *L = im->L;
    const vector *v = &VECTORS[i];
    size_t units = v->nlines - 1;
    size_t size = (size_t)L->code_sizeof;
    if (L->code_code_adaptive != PH_NONE && (size_t)L->code_code_adaptive + 2 * units > size)
        size = (size_t)L->code_code_adaptive + 2 * units;
    uint64_t c = img_object(im, t->code_type, size, false, false);
    img_w64(im, c + 16, units); /* 3.11+: ob_size counts the code units */
    img_w32(im, c + (uint64_t)L->code_firstlineno, 1);
    img_field(im, c, L->code_qualname != PH_NONE ? L->code_qualname : L->code_name, img_str(im, name));
    img_field(im, c, L->code_filename, img_str(im, "sample.py"));
    img_field(im, c, L->code_lnotab != PH_NONE ? L->code_lnotab : L->code_linetable,
              bytes_obj(t, v->table, v->len));
    if (L->code_code != PH_NONE) {
        static const uint8_t zero[1024];
        assert_true(2 * units <= sizeof(zero));
        img_field(im, c, L->code_code, bytes_obj(t, zero, 2 * units));
    }
    return c;
}

static void threads_image_init(threads_image *t, int i)
{
    memset(t, 0, sizeof(*t));
    img *im = &t->im;
    img_init(im, MINORS[i], 1u << 20);
    const ph_layout *L = im->L;
    uint64_t runtime, gc;
    img_runtime(im, &runtime, &t->interp, &gc);
    /* tp_basicsize / tp_itemsize as code.__basicsize__, bytes.__basicsize__ (33),
     * frame.__basicsize__ show them; only the names matter to the shapes */
    t->code_type = img_static_type(im, "code", L->code_sizeof, L->code_code_adaptive != PH_NONE ? 2 : 0, 0);
    t->bytes_type = img_static_type(im, "bytes", L->bytes_sval + 1, 1, TPFLAGS_BYTES_SUBCLASS);
    t->frame_type = img_static_type(im, "frame", L->frame_sizeof, 8, TPFLAGS_HAVE_GC);
    t->code = code_obj(t, i, "sample");
    t->h = img_heap(im);
    t->h->syms.py_runtime = runtime;
}

static void threads_image_free(threads_image *t)
{
    img_heap_free(t->h);
    img_free(&t->im);
}

/* A PyThreadState pushed on the interpreter's list. */
static uint64_t add_tstate(threads_image *t, uint64_t ident, uint64_t native)
{
    img *im = &t->im;
    const ph_layout *L = im->L;
    const int32_t fields[] = {L->tstate_next, L->tstate_interp, L->tstate_frame, L->tstate_cframe,
                              L->tstate_current_frame, L->tstate_thread_id,
                              L->tstate_native_thread_id};
    int32_t size = 64;
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
        if (fields[k] + 8 > size)
            size = fields[k] + 8;
    uint64_t ts = img_alloc(im, (size_t)size);
    img_field(im, ts, L->tstate_next, img_r64(im, t->interp + (uint64_t)L->interp_threads_head));
    img_field(im, ts, L->tstate_interp, t->interp);
    img_field(im, ts, L->tstate_thread_id, ident);
    if (L->tstate_native_thread_id != PH_NONE)
        img_field(im, ts, L->tstate_native_thread_id, native);
    img_field(im, t->interp, L->interp_threads_head, ts);
    return ts;
}

static void set_top_frame(threads_image *t, uint64_t ts, uint64_t f)
{
    img *im = &t->im;
    const ph_layout *L = im->L;
    if (L->tstate_frame != PH_NONE) {
        img_field(im, ts, L->tstate_frame, f);
    } else if (L->tstate_cframe != PH_NONE) {
        uint64_t cf = img_alloc(im, (size_t)L->cframe_current_frame + 8);
        img_field(im, cf, L->cframe_current_frame, f);
        img_field(im, ts, L->tstate_cframe, cf);
    } else {
        img_field(im, ts, L->tstate_current_frame, f);
    }
}

/* A frame at byte offset `offset` of code (a frame object on 3.8-3.10, a
 * _PyInterpreterFrame after), whose caller is back. */
static uint64_t make_frame(threads_image *t, uint64_t code, int64_t offset, uint64_t back, int owner)
{
    img *im = &t->im;
    const ph_layout *L = im->L;
    if (L->frame_code != PH_NONE) {
        uint64_t f = img_object(im, t->frame_type, (size_t)L->frame_sizeof, true, false);
        img_field(im, f, L->frame_code, code);
        img_field(im, f, L->frame_back, back);
        /* f_lasti: bytes on 3.8/3.9, code units on 3.10 */
        img_w32(im, f + (uint64_t)L->frame_lasti, (uint32_t)(int32_t)(L->minor >= 10 ? offset / 2 : offset));
        return f;
    }
    uint64_t f = img_alloc(im, (size_t)L->iframe_localsplus + 64);
    img_field(im, f, L->iframe_code, code);
    img_field(im, f, L->iframe_previous, back);
    /* prev_instr / instr_ptr: _PyCode_CODE(code) + offset */
    img_field(im, f, L->iframe_instr, code + (uint64_t)L->code_code_adaptive + (uint64_t)offset);
    img_w8(im, f + (uint64_t)L->iframe_owner, (uint8_t)owner);
    return f;
}

static const ph_thread_info *thread_by_ident(const ph_threads *th, uint64_t ident)
{
    for (size_t k = 0; k < th->n; k++)
        if (th->items[k].thread_id == ident)
            return &th->items[k];
    fail_msg("no thread 0x%llx", (unsigned long long)ident);
    return NULL;
}

static void test_thread_stacks(void **state)
{
    FOR_EACH_VERSION(i) {
        threads_image t;
        threads_image_init(&t, i);
        img *im = &t.im;
        const ph_layout *L = im->L;
        const vector *v = &VECTORS[i];
        bool iframe = L->frame_code == PH_NONE;

        /* thread A: outer (not started yet) <- [3.12+: a C entry frame] <- middle
         * at the return (line 314) <- inner at line 9; one frame's code is garbage */
        uint64_t outer_code = code_obj(&t, i, "outer");
        uint64_t outer = make_frame(&t, outer_code, -2, 0, 0);
        uint64_t below = outer;
        if (MINORS[i] >= 12)
            below = make_frame(&t, t.code, 0, outer, 3); /* FRAME_OWNED_BY_CSTACK */
        uint64_t middle = make_frame(&t, t.code, offset_of_line(v, 314), below, 0);
        uint64_t bogus = make_frame(&t, t.bytes_type, 0, middle, 0);
        uint64_t inner = make_frame(&t, t.code, offset_of_line(v, 9), bogus, 0);
        uint64_t a = add_tstate(&t, 0x7f0000001000, 4242);
        set_top_frame(&t, a, inner);

        /* thread B: frames that loop: f -> g -> f */
        uint64_t g = make_frame(&t, t.code, offset_of_line(v, 5), 0, 0);
        uint64_t f = make_frame(&t, t.code, offset_of_line(v, 3), g, 0);
        img_field(im, g, iframe ? L->iframe_previous : L->frame_back, f);
        uint64_t b = add_tstate(&t, 0x7f0000002000, 4243);
        set_top_frame(&t, b, f);

        /* thread C: a misaligned frame pointer; thread D: no Python frames */
        set_top_frame(&t, add_tstate(&t, 0x7f0000003000, 4244), inner + 4);
        add_tstate(&t, 0x7f0000004000, 4245);

        ph_threads *th = NULL;
        ph_error *err = ph_threads_get(t.h, &th);
        assert_null(err);
        assert_int_equal(th->n, 4);
        assert_int_equal(th->items[0].thread_id, 0x7f0000004000); /* the list's order: newest first */

        const ph_thread_info *ta = thread_by_ident(th, 0x7f0000001000);
        assert_int_equal(ta->tstate, a);
        assert_int_equal(ta->interp, t.interp);
        assert_int_equal(ta->native_id, MINORS[i] >= 11 ? 4242 : 0);
        assert_false(ta->truncated);
        assert_int_equal(ta->nframes, 4); /* the C entry frame left out */
        const ph_frame_info *fr = ta->frames;
        assert_int_equal(fr[0].address, inner);
        assert_int_equal(fr[0].code, t.code);
        assert_string_equal(fr[0].function, "sample");
        assert_string_equal(fr[0].file, "sample.py");
        assert_int_equal(fr[0].line, 9);
        assert_int_equal(fr[0].first_line, 1);
        assert_int_equal(fr[1].address, bogus);
        assert_int_equal(fr[1].code, 0);
        assert_string_equal(fr[1].function, "?");
        assert_string_equal(fr[1].file, "?");
        assert_int_equal(fr[1].line, -1);
        assert_int_equal(fr[2].address, middle);
        assert_int_equal(fr[2].line, 314);
        assert_int_equal(fr[3].address, outer);
        assert_string_equal(fr[3].function, "outer");
        assert_int_equal(fr[3].line, 1); /* not started: its first line, as CPython says */

        const ph_thread_info *tb = thread_by_ident(th, 0x7f0000002000);
        assert_true(tb->truncated);
        assert_true(tb->nframes >= 2 && tb->nframes <= 4);
        assert_int_equal(tb->frames[0].line, 3);
        assert_int_equal(tb->frames[1].line, 5);

        const ph_thread_info *tc = thread_by_ident(th, 0x7f0000003000);
        assert_true(tc->truncated);
        assert_int_equal(tc->nframes, 0);
        const ph_thread_info *td = thread_by_ident(th, 0x7f0000004000);
        assert_false(td->truncated);
        assert_int_equal(td->nframes, 0);

        char where[256];
        ph_frame_where(t.h, middle, iframe, where, sizeof(where));
        assert_string_equal(where, "sample (sample.py:314)");
        ph_threads_free(th);
        threads_image_free(&t);
    }
}

/* While tracing, frame.f_lineno is the answer: 3.8/3.9 when f_trace is
 * set, later when the frame object's f_lineno is not 0. */
static void test_traced_frame_line(void **state)
{
    FOR_EACH_VERSION(i) {
        threads_image t;
        threads_image_init(&t, i);
        img *im = &t.im;
        const ph_layout *L = im->L;
        uint64_t f = make_frame(&t, t.code, offset_of_line(&VECTORS[i], 9), 0, 0);
        uint64_t fobj = f;
        if (L->frame_code == PH_NONE) {
            fobj = img_object(im, t.frame_type, (size_t)L->frame_sizeof, true, false);
            img_field(im, f, L->iframe_frame_obj, fobj);
        }
        img_w32(im, fobj + (uint64_t)L->frame_lineno, 77);
        if (L->minor <= 9) {
            set_top_frame(&t, add_tstate(&t, 1 << 12, 1), f);
            ph_threads *th;
            assert_null(ph_threads_get(t.h, &th));
            assert_int_equal(th->items[0].frames[0].line, 9); /* not tracing: f_lineno is stale */
            ph_threads_free(th);
            img_field(im, f, L->frame_trace, t.code); /* any object */
        } else {
            set_top_frame(&t, add_tstate(&t, 1 << 12, 1), f);
        }
        ph_threads *th;
        assert_null(ph_threads_get(t.h, &th));
        assert_int_equal(th->items[0].frames[0].line, 77);
        ph_threads_free(th);
        threads_image_free(&t);
    }
}

/* A thread list and an interpreter list that loop, and no interpreter at all. */
static void test_thread_lists_bounded(void **state)
{
    FOR_EACH_VERSION(i) {
        threads_image t;
        threads_image_init(&t, i);
        img *im = &t.im;
        const ph_layout *L = im->L;
        uint64_t x = add_tstate(&t, 0x1000, 1);
        uint64_t y = add_tstate(&t, 0x2000, 2);
        img_field(im, x, L->tstate_next, y);  /* y -> x -> y ... */
        img_field(im, t.interp, L->interp_next, t.interp);
        ph_threads *th;
        assert_null(ph_threads_get(t.h, &th));
        assert_true(th->n >= 2 && th->n <= 8);
        ph_threads_free(th);

        img_field(im, t.h->syms.py_runtime, L->runtime_interpreters_head, 0);
        ph_error *err = ph_threads_get(t.h, &th);
        assert_non_null(err);
        assert_null(th);
        assert_int_equal(err->code, PH_ERR_CORRUPT);
        ph_error_free(err);
        threads_image_free(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_line_tables_match_cpython, img_cleanup),
        cmocka_unit_test_teardown(test_line_tables_bounded, img_cleanup),
        cmocka_unit_test_teardown(test_thread_stacks, img_cleanup),
        cmocka_unit_test_teardown(test_traced_frame_line, img_cleanup),
        cmocka_unit_test_teardown(test_thread_lists_bounded, img_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
