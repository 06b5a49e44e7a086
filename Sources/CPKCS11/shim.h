// The PKCS#11 (Cryptoki) types, constants and CK_FUNCTION_LIST, from p11-kit's header
// (Debian: libp11-kit-dev; the header is free to copy and use, see its notice).
// Nothing is linked: the PKCS11 target loads a module with dlopen at run time, so the
// module path is configuration, not a build dependency.
#include <p11-kit-1/p11-kit/pkcs11.h>
