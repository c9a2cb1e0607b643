/* SPDX-License-Identifier: MIT */
#ifndef ZCAP_TOOLS_PRINT_H
#define ZCAP_TOOLS_PRINT_H

#include <stdio.h>

#include "zcap.h"

void print_packet(FILE *out, const struct zcap_pkt *pkt, int quiet);

#endif
