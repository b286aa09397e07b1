// COM1, polled: the console and the channel the result JSON leaves on.
#pragma once

#include <stdint.h>

namespace port {

void serial_init();
void serial_write(const char* s);
void serial_write(const char* s, uint64_t n);
void serial_putc(char c);

}  // namespace port
