#ifndef CZEROMQ_SHIM_H
#define CZEROMQ_SHIM_H

#include <zmq.h>
#include <errno.h>

// Swift cannot read the C `errno` macro portably; the wrapper reads it through this
// accessor immediately after the failing libzmq call, before anything else can change it.
static inline int CZeroMQ_errno(void) { return errno; }

// libzmq defines its own error numbers as `ZMQ_HAUSNUMERO + n` on platforms whose errno.h
// lacks them; Swift does not import macros built from other macros, so they are re-exported
// here as constants whose values come from the header itself.
static const int CZeroMQ_ETERM = ETERM;
static const int CZeroMQ_EFSM = EFSM;
static const int CZeroMQ_EMTHREAD = EMTHREAD;
static const int CZeroMQ_ENOCOMPATPROTO = ENOCOMPATPROTO;
static const int CZeroMQ_EHOSTUNREACH = EHOSTUNREACH;
static const int CZeroMQ_EMSGSIZE = EMSGSIZE;
static const int CZeroMQ_ENOTSUP = ENOTSUP;
static const int CZeroMQ_EADDRINUSE = EADDRINUSE;
static const int CZeroMQ_ECONNREFUSED = ECONNREFUSED;
static const int CZeroMQ_ENOTSOCK = ENOTSOCK;

#endif
