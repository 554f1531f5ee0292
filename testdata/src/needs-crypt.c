/* Needs libcrypt.so.1: crypt() lives in libxcrypt, which the Amazon Linux 2 zip runtime lacks. */
#include <crypt.h>

const char *hash_password(const char *password, const char *salt)
{
    return crypt(password, salt);
}
