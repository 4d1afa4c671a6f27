/* Test-only stand-in for bcryptprimitives.dll, which Wine 8 lacks. Rust's Windows std (1.78+)
 * takes its random bytes from bcryptprimitives!ProcessPrng (Windows 10+); this forwards to
 * advapi32!SystemFunction036 (RtlGenRandom), which Wine has. scripts/test-windows builds it
 * with mingw and puts it beside the .exe files it runs under Wine; it is never shipped.
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c \
 *     bcryptprimitives.def -ladvapi32 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
