/*
 * login: the `exalsiusfs login` and `exalsiusfs logout` commands. login
 * runs the device-code flow with the official client's settings and
 * stores the tokens where exls keeps them (the Secret Service) or, where
 * there is none, in our own 0600 file; logout removes both. Neither needs
 * a mount. They print for a human on stdout/stderr, never a secret.
 */
#ifndef EXFS_LOGIN_H
#define EXFS_LOGIN_H

#include <signal.h>

/* exalsiusfs login [-o auth_url=URL] [--file]: the exit status. *stop is
 * set by the caller's SIGINT/SIGTERM handler (Ctrl-C gives up: 130). */
int login_run(int argc, char **argv, volatile sig_atomic_t *stop);
/* exalsiusfs logout: the exit status. */
int login_logout(int argc, char **argv);

#endif
