#ifndef STS_CPCSCLITE_SHIM_H
#define STS_CPCSCLITE_SHIM_H
#include <winscard.h>
#include <reader.h>

// Macros Swift cannot import: the protocol control blocks are addresses of globals.
static inline const SCARD_IO_REQUEST *sts_pci_t0(void) { return SCARD_PCI_T0; }
static inline const SCARD_IO_REQUEST *sts_pci_t1(void) { return SCARD_PCI_T1; }
static const DWORD sts_scard_autoallocate = SCARD_AUTOALLOCATE;
#endif
