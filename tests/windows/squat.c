/* Test-only squatter for scripts/test-windows: creates the named pipe given as argv[1] the way
 * an attacker would (no first-instance flag, a NULL DACL that lets everyone in, unlimited
 * instances), says "squatting", then waits for clients. The companion must refuse to share it. */
#include <windows.h>
#include <stdio.h>

int wmain(int argc, wchar_t **argv)
{
    SECURITY_DESCRIPTOR sd;
    SECURITY_ATTRIBUTES sa = { sizeof sa, &sd, FALSE };
    HANDLE pipe;
    if (argc < 2)
        return 2;
    InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
    SetSecurityDescriptorDacl(&sd, TRUE, NULL, FALSE);
    pipe = CreateNamedPipeW(argv[1], PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_WAIT,
                            PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, &sa);
    if (pipe == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateNamedPipeW: %lu\n", GetLastError());
        return 1;
    }
    printf("squatting\n");
    fflush(stdout);
    for (;;) {
        ConnectNamedPipe(pipe, NULL);
        DisconnectNamedPipe(pipe);
    }
}
