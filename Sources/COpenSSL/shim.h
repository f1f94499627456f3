#ifndef STS_COPENSSL_SHIM_H
#define STS_COPENSSL_SHIM_H
// DES_ecb_encrypt is deprecated in OpenSSL 3 but is the only single-block DES entry point
// without per-call EVP context allocation; STS needs exactly one block per token.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/des.h>
#include <openssl/crypto.h>
// AES-128-GCM with the 12-byte tags of DLMS security suite 0 (swift-crypto only takes 16-byte tags).
#include <openssl/evp.h>
#endif
