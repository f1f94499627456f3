#ifndef STS_CPKCS11_SHIM_H
#define STS_CPKCS11_SHIM_H
// The OASIS PKCS#11 interface as p11-kit ships it (pkg-config p11-kit-1). The module itself is
// loaded at run time (dlopen) from the path a station is configured with, never linked.
#include <p11-kit/pkcs11.h>
#include <dlfcn.h>

// Calls through the module's function list (Swift cannot call a C function pointer member
// of an imported struct with the module's calling convention as conveniently).
static inline CK_RV sts_get_function_list(void *symbol, CK_FUNCTION_LIST_PTR_PTR list) {
    return ((CK_C_GetFunctionList)symbol)(list);
}
#endif
