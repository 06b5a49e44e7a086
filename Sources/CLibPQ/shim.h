#ifndef KEK_CLIBPQ_SHIM_H
#define KEK_CLIBPQ_SHIM_H

#include <libpq-fe.h>

// Char-literal macros are not imported into Swift; expose the diagnostic fields we read.
static const int CLibPQ_DIAG_SQLSTATE = PG_DIAG_SQLSTATE;
static const int CLibPQ_DIAG_MESSAGE_PRIMARY = PG_DIAG_MESSAGE_PRIMARY;
static const int CLibPQ_DIAG_MESSAGE_DETAIL = PG_DIAG_MESSAGE_DETAIL;
static const int CLibPQ_DIAG_MESSAGE_HINT = PG_DIAG_MESSAGE_HINT;

#endif
