/* Test-only program for the helper tests (runs under wine here, natively on windows-latest).
 *   args            print each argument (from CommandLineToArgvW) as hex UTF-16, one per line
 *   exit N          exit with N
 *   sleep MS        sleep
 *   spawn N         start N sleeping copies of itself, print how many started
 *   write PATH      create PATH, print ESCAPED or DENIED <error>
 *   connect PORT    TCP connect to 127.0.0.1:PORT, print ESCAPED or DENIED <error> */
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <shellapi.h>
#include <stdio.h>
#include <wchar.h>

int wmain(void) {
  int argc = 0;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (argc < 2) return 2;
  if (!wcscmp(argv[1], L"args")) {
    for (int i = 2; i < argc; i++) {
      for (const wchar_t *p = argv[i]; *p; p++) printf("%04x", (unsigned)*p);
      printf("\n");
    }
    return 0;
  }
  if (!wcscmp(argv[1], L"exit") && argc > 2) return _wtoi(argv[2]);
  if (!wcscmp(argv[1], L"sleep") && argc > 2) {
    Sleep((DWORD)_wtoi(argv[2]));
    return 0;
  }
  if (!wcscmp(argv[1], L"spawn") && argc > 2) {
    int n = _wtoi(argv[2]), started = 0;
    wchar_t self[MAX_PATH], cmd[MAX_PATH + 32];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    for (int i = 0; i < n; i++) {
      STARTUPINFOW si;
      PROCESS_INFORMATION pi;
      ZeroMemory(&si, sizeof si);
      si.cb = sizeof si;
      swprintf(cmd, MAX_PATH + 32, L"\"%ls\" sleep 3000", self);
      if (CreateProcessW(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        started++;
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
      }
    }
    printf("STARTED %d\n", started);
    fflush(stdout);
    return 0;
  }
  if (!wcscmp(argv[1], L"write") && argc > 2) {
    HANDLE h = CreateFileW(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
      printf("DENIED %lu\n", (unsigned long)GetLastError());
      return 3;
    }
    CloseHandle(h);
    printf("ESCAPED\n");
    return 0;
  }
  if (!wcscmp(argv[1], L"connect") && argc > 2) {
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa)) {
      printf("DENIED wsastartup\n");
      return 3;
    }
    SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (s == INVALID_SOCKET) {
      printf("DENIED socket %d\n", WSAGetLastError());
      return 3;
    }
    struct sockaddr_in a;
    ZeroMemory(&a, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)_wtoi(argv[2]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) {
      printf("DENIED connect %d\n", WSAGetLastError());
      return 3;
    }
    send(s, "x", 1, 0);
    closesocket(s);
    printf("ESCAPED\n");
    return 0;
  }
  return 2;
}
