// libxcrypt (libcrypt-dev): crypt_rn checks the bcrypt hashes of --web.config.file's
// basic_auth_users, as exporter-toolkit checks them with Go's bcrypt.
#include <crypt.h>
