/*
 * codex-sandbox-win: runs one command line inside a sandbox on Windows.
 *
 *   codex-sandbox-win [--mode appcontainer|restricted-token|job-only] [--network none|full]
 *                     [--grant-write DIR]... [--grant-read DIR]... [--deny-write PATH]...
 *                     [--max-processes N] [--memory-mb N] [--timeout-ms N] -- "<command line>"
 *   codex-sandbox-win --probe
 *
 * appcontainer:      a fresh AppContainer profile per run (unique name), with no capability
 *                    when the network is off (so no socket reaches anything); ACL grants for the
 *                    writable roots, deny ACEs for protected paths; removed again on exit.
 * restricted-token:  a write-restricted token whose restricting SID is a fresh random SID that
 *                    only the writable roots grant; all privileges dropped. Does NOT block the
 *                    network: the TypeScript side reports that.
 * job-only:          the Job Object alone (limits, kill-on-close), for diagnostics.
 *
 * Every mode runs the command in a Job Object with kill-on-close, an active-process limit, a
 * job memory limit and UI restrictions. When the first process exits, the rest of the job is
 * terminated. Exit status: the command's, or 121 when the sandbox could not be set up (the
 * command never ran; a line starting "codex-sandbox-win: " on stderr says why), or 124 on timeout.
 * The command line after "--" is passed verbatim to CreateProcessW (already quoted by the caller).
 */
#define WIN32_LEAN_AND_MEAN
#define _WIN32_WINNT 0x0A00
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#define SETUP_EXIT 121
#define TIMEOUT_EXIT 124
#define MAX_PATHS 64

typedef HRESULT(WINAPI *CreateAppContainerProfileFn)(PCWSTR, PCWSTR, PCWSTR, PSID_AND_ATTRIBUTES, DWORD, PSID *);
typedef HRESULT(WINAPI *DeleteAppContainerProfileFn)(PCWSTR);
typedef HRESULT(WINAPI *DeriveSidFn)(PCWSTR, PSID *);

static void fail(const wchar_t *what, DWORD err) {
  fwprintf(stderr, L"codex-sandbox-win: %ls failed (error %lu)\n", what, (unsigned long)err);
  fflush(stderr);
  ExitProcess(SETUP_EXIT);
}

struct acl_backup {
  const wchar_t *path;
  PSECURITY_DESCRIPTOR sd; /* original descriptor (owns dacl) */
  PACL dacl;
  int protected_dacl;
};

static struct acl_backup backups[MAX_PATHS * 3];
static int nbackups = 0;

/* Adds one ACE for `sid` to `path`'s DACL, remembering the original DACL to restore it later. */
static DWORD add_ace(const wchar_t *path, PSID sid, DWORD rights, ACCESS_MODE mode, DWORD inherit) {
  PACL old = NULL, updated = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD rc = GetNamedSecurityInfoW(path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &old, NULL, &sd);
  if (rc != ERROR_SUCCESS) return rc;
  SECURITY_DESCRIPTOR_CONTROL ctl = 0;
  DWORD rev = 0;
  GetSecurityDescriptorControl(sd, &ctl, &rev);
  EXPLICIT_ACCESSW ea;
  ZeroMemory(&ea, sizeof ea);
  ea.grfAccessPermissions = rights;
  ea.grfAccessMode = mode;
  ea.grfInheritance = inherit;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_UNKNOWN;
  ea.Trustee.ptstrName = (LPWSTR)sid;
  rc = SetEntriesInAclW(1, &ea, old, &updated);
  if (rc != ERROR_SUCCESS) {
    LocalFree(sd);
    return rc;
  }
  rc = SetNamedSecurityInfoW((LPWSTR)path, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, updated, NULL);
  LocalFree(updated);
  if (rc != ERROR_SUCCESS) {
    LocalFree(sd);
    return rc;
  }
  if (nbackups < (int)(sizeof backups / sizeof backups[0])) {
    backups[nbackups].path = path;
    backups[nbackups].sd = sd;
    backups[nbackups].dacl = old;
    backups[nbackups].protected_dacl = (ctl & SE_DACL_PROTECTED) != 0;
    nbackups++;
  } else {
    LocalFree(sd);
  }
  return ERROR_SUCCESS;
}

/* Restores every DACL we changed, newest first (so a path changed twice ends as it started). */
static void restore_acls(void) {
  for (int i = nbackups - 1; i >= 0; i--) {
    SECURITY_INFORMATION si = DACL_SECURITY_INFORMATION |
                              (backups[i].protected_dacl ? PROTECTED_DACL_SECURITY_INFORMATION
                                                         : UNPROTECTED_DACL_SECURITY_INFORMATION);
    DWORD rc = SetNamedSecurityInfoW((LPWSTR)backups[i].path, SE_FILE_OBJECT, si, NULL, NULL, backups[i].dacl, NULL);
    if (rc != ERROR_SUCCESS)
      fwprintf(stderr, L"codex-sandbox-win: warning: could not restore the ACL of %ls (error %lu)\n",
               backups[i].path, (unsigned long)rc);
    LocalFree(backups[i].sd);
  }
  nbackups = 0;
}

static HANDLE make_job(DWORD max_processes, SIZE_T memory_mb) {
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (!job) fail(L"CreateJobObject", GetLastError());
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
  ZeroMemory(&li, sizeof li);
  li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  if (max_processes > 0) {
    li.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
    li.BasicLimitInformation.ActiveProcessLimit = max_processes;
  }
  if (memory_mb > 0) {
    li.BasicLimitInformation.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
    li.JobMemoryLimit = memory_mb * 1024 * 1024;
  }
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof li))
    fail(L"SetInformationJobObject(limits)", GetLastError());
  JOBOBJECT_BASIC_UI_RESTRICTIONS ui;
  ui.UIRestrictionsClass = JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS |
                           JOB_OBJECT_UILIMIT_EXITWINDOWS | JOB_OBJECT_UILIMIT_GLOBALATOMS |
                           JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                           JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS | JOB_OBJECT_UILIMIT_WRITECLIPBOARD;
  /* UI restrictions are defence in depth; wine and some server SKUs refuse them: not fatal. */
  if (!SetInformationJobObject(job, JobObjectBasicUIRestrictions, &ui, sizeof ui))
    fwprintf(stderr, L"codex-sandbox-win: note: UI restrictions unavailable (error %lu)\n", (unsigned long)GetLastError());
  return job;
}

/* A fresh random SID S-1-9-r1-r2-r3-r4 (resource-manager authority), unique per run. */
static PSID random_sid(void) {
  SID_IDENTIFIER_AUTHORITY auth = {SECURITY_RESOURCE_MANAGER_AUTHORITY};
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  DWORD r[4] = {GetCurrentProcessId(), (DWORD)t.LowPart, (DWORD)t.HighPart, GetTickCount()};
  PSID sid = NULL;
  if (!AllocateAndInitializeSid(&auth, 4, r[0], r[1], r[2], r[3], 0, 0, 0, 0, &sid)) fail(L"AllocateAndInitializeSid", GetLastError());
  return sid;
}

struct options {
  const wchar_t *mode;
  int network_full;
  const wchar_t *grant_write[MAX_PATHS];
  int n_write;
  const wchar_t *grant_read[MAX_PATHS];
  int n_read;
  const wchar_t *deny_write[MAX_PATHS];
  int n_deny;
  DWORD max_processes;
  SIZE_T memory_mb;
  DWORD timeout_ms;
  const wchar_t *command;
};

#define WRITE_RIGHTS (FILE_GENERIC_WRITE | DELETE | FILE_DELETE_CHILD)
#define READ_RIGHTS (FILE_GENERIC_READ | FILE_GENERIC_EXECUTE)
#define INHERIT (SUB_CONTAINERS_AND_OBJECTS_INHERIT)

static void apply_acls(const struct options *o, PSID sid) {
  DWORD rc;
  for (int i = 0; i < o->n_read; i++)
    if ((rc = add_ace(o->grant_read[i], sid, READ_RIGHTS, GRANT_ACCESS, INHERIT)) != ERROR_SUCCESS) {
      restore_acls();
      fail(L"grant read ACL", rc);
    }
  for (int i = 0; i < o->n_write; i++)
    if ((rc = add_ace(o->grant_write[i], sid, READ_RIGHTS | WRITE_RIGHTS, GRANT_ACCESS, INHERIT)) != ERROR_SUCCESS) {
      restore_acls();
      fail(L"grant write ACL", rc);
    }
  for (int i = 0; i < o->n_deny; i++) {
    /* A protected path that does not exist yet cannot carry an ACE (the caller reports it). */
    if (GetFileAttributesW(o->deny_write[i]) == INVALID_FILE_ATTRIBUTES) continue;
    DWORD attrs = GetFileAttributesW(o->deny_write[i]);
    DWORD inherit = (attrs & FILE_ATTRIBUTE_DIRECTORY) ? INHERIT : NO_INHERITANCE;
    if ((rc = add_ace(o->deny_write[i], sid, WRITE_RIGHTS, DENY_ACCESS, inherit)) != ERROR_SUCCESS) {
      restore_acls();
      fail(L"deny write ACL", rc);
    }
  }
}

static int probe(void) {
  HMODULE userenv = LoadLibraryW(L"userenv.dll");
  CreateAppContainerProfileFn create = userenv ? (CreateAppContainerProfileFn)(void *)GetProcAddress(userenv, "CreateAppContainerProfile") : NULL;
  DeleteAppContainerProfileFn del = userenv ? (DeleteAppContainerProfileFn)(void *)GetProcAddress(userenv, "DeleteAppContainerProfile") : NULL;
  wchar_t name[64];
  swprintf(name, 64, L"codex.sbx.probe.%lu", (unsigned long)GetCurrentProcessId());
  if (!create || !del) {
    wprintf(L"appcontainer=unavailable CreateAppContainerProfile not exported by userenv.dll\n");
  } else {
    PSID sid = NULL;
    HRESULT hr = create(name, name, name, NULL, 0, &sid);
    if (SUCCEEDED(hr)) {
      wprintf(L"appcontainer=ok\n");
      FreeSid(sid);
      del(name);
    } else {
      wprintf(L"appcontainer=unavailable CreateAppContainerProfile returned 0x%08lx\n", (unsigned long)hr);
    }
  }
  HANDLE job = CreateJobObjectW(NULL, NULL);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
  ZeroMemory(&li, sizeof li);
  li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
  li.BasicLimitInformation.ActiveProcessLimit = 4;
  if (job && SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof li))
    wprintf(L"job=ok\n");
  else
    wprintf(L"job=unavailable error %lu\n", (unsigned long)GetLastError());
  if (job) CloseHandle(job);
  HANDLE token = NULL, restricted = NULL;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &token) &&
      CreateRestrictedToken(token, DISABLE_MAX_PRIVILEGE | WRITE_RESTRICTED, 0, NULL, 0, NULL, 0, NULL, &restricted))
    wprintf(L"restricted-token=ok\n");
  else
    wprintf(L"restricted-token=unavailable error %lu\n", (unsigned long)GetLastError());
  if (restricted) CloseHandle(restricted);
  if (token) CloseHandle(token);
  return 0;
}

static DWORD parse_num(const wchar_t *s, const wchar_t *flag) {
  wchar_t *end = NULL;
  unsigned long v = wcstoul(s, &end, 10);
  if (!end || *end) {
    fwprintf(stderr, L"codex-sandbox-win: %ls needs a number, got \"%ls\"\n", flag, s);
    ExitProcess(SETUP_EXIT);
  }
  return (DWORD)v;
}

static void push(const wchar_t **list, int *n, const wchar_t *v) {
  if (*n >= MAX_PATHS) {
    fwprintf(stderr, L"codex-sandbox-win: more than %d paths\n", MAX_PATHS);
    ExitProcess(SETUP_EXIT);
  }
  list[(*n)++] = v;
}

int wmain(void) {
  int argc = 0;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (!argv) fail(L"CommandLineToArgvW", GetLastError());
  struct options o;
  ZeroMemory(&o, sizeof o);
  o.mode = L"appcontainer";
  for (int i = 1; i < argc; i++) {
    const wchar_t *a = argv[i];
    const wchar_t *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!wcscmp(a, L"--probe")) return probe();
    if (!wcscmp(a, L"--")) {
      if (i + 2 != argc) {
        fwprintf(stderr, L"codex-sandbox-win: exactly one command line must follow --\n");
        return SETUP_EXIT;
      }
      o.command = argv[i + 1];
      break;
    }
    if (!v) {
      fwprintf(stderr, L"codex-sandbox-win: %ls needs a value\n", a);
      return SETUP_EXIT;
    }
    if (!wcscmp(a, L"--mode")) o.mode = v;
    else if (!wcscmp(a, L"--network")) o.network_full = !wcscmp(v, L"full");
    else if (!wcscmp(a, L"--grant-write")) push(o.grant_write, &o.n_write, v);
    else if (!wcscmp(a, L"--grant-read")) push(o.grant_read, &o.n_read, v);
    else if (!wcscmp(a, L"--deny-write")) push(o.deny_write, &o.n_deny, v);
    else if (!wcscmp(a, L"--max-processes")) o.max_processes = parse_num(v, a);
    else if (!wcscmp(a, L"--memory-mb")) o.memory_mb = parse_num(v, a);
    else if (!wcscmp(a, L"--timeout-ms")) o.timeout_ms = parse_num(v, a);
    else {
      fwprintf(stderr, L"codex-sandbox-win: unknown option %ls\n", a);
      return SETUP_EXIT;
    }
    i++;
  }
  if (!o.command || !*o.command) {
    fwprintf(stderr, L"codex-sandbox-win: no command line after --\n");
    return SETUP_EXIT;
  }
  int appcontainer = !wcscmp(o.mode, L"appcontainer");
  int restricted = !wcscmp(o.mode, L"restricted-token");
  if (!appcontainer && !restricted && wcscmp(o.mode, L"job-only")) {
    fwprintf(stderr, L"codex-sandbox-win: unknown mode %ls\n", o.mode);
    return SETUP_EXIT;
  }

  HANDLE job = make_job(o.max_processes, o.memory_mb);
  STARTUPINFOEXW si;
  ZeroMemory(&si, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.StartupInfo.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.StartupInfo.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  PROCESS_INFORMATION pi;
  ZeroMemory(&pi, sizeof pi);
  wchar_t *cmd = _wcsdup(o.command); /* CreateProcessW may write to the buffer */
  DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT;
  BOOL ok;
  wchar_t container[96];
  DeleteAppContainerProfileFn del = NULL;
  PSID sid = NULL;
  HANDLE restricted_token = NULL;

  if (appcontainer) {
    HMODULE userenv = LoadLibraryW(L"userenv.dll");
    CreateAppContainerProfileFn create = userenv ? (CreateAppContainerProfileFn)(void *)GetProcAddress(userenv, "CreateAppContainerProfile") : NULL;
    del = userenv ? (DeleteAppContainerProfileFn)(void *)GetProcAddress(userenv, "DeleteAppContainerProfile") : NULL;
    if (!create || !del) fail(L"AppContainer API lookup (userenv.dll)", ERROR_PROC_NOT_FOUND);
    LARGE_INTEGER t;
    QueryPerformanceCounter(&t);
    swprintf(container, 96, L"codex.sbx.%lu.%llx", (unsigned long)GetCurrentProcessId(), (unsigned long long)t.QuadPart);
    HRESULT hr = create(container, L"codex sandbox", L"codex sandbox (one run)", NULL, 0, &sid);
    if (FAILED(hr)) fail(L"CreateAppContainerProfile", (DWORD)hr);
    apply_acls(&o, sid);
    /* No capabilities: no internetClient, no privateNetworkClientServer, so no network. */
    SID_AND_ATTRIBUTES caps[3];
    DWORD ncaps = 0;
    PSID capsids[3] = {NULL, NULL, NULL};
    if (o.network_full) {
      const wchar_t *sddl[3] = {L"S-1-15-3-1", L"S-1-15-3-2", L"S-1-15-3-3"}; /* internetClient, internetClientServer, privateNetworkClientServer */
      for (int i = 0; i < 3; i++) {
        if (!ConvertStringSidToSidW(sddl[i], &capsids[i])) fail(L"ConvertStringSidToSid", GetLastError());
        caps[ncaps].Sid = capsids[i];
        caps[ncaps].Attributes = SE_GROUP_ENABLED;
        ncaps++;
      }
    }
    SECURITY_CAPABILITIES sc;
    ZeroMemory(&sc, sizeof sc);
    sc.AppContainerSid = sid;
    sc.Capabilities = ncaps ? caps : NULL;
    sc.CapabilityCount = ncaps;
    SIZE_T size = 0;
    InitializeProcThreadAttributeList(NULL, 1, 0, &size);
    si.lpAttributeList = (LPPROC_THREAD_ATTRIBUTE_LIST)HeapAlloc(GetProcessHeap(), 0, size);
    if (!si.lpAttributeList || !InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &size))
      fail(L"InitializeProcThreadAttributeList", GetLastError());
    if (!UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES, &sc, sizeof sc, NULL, NULL))
      fail(L"UpdateProcThreadAttribute(SECURITY_CAPABILITIES)", GetLastError());
    ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags | EXTENDED_STARTUPINFO_PRESENT, NULL, NULL, &si.StartupInfo, &pi);
  } else if (restricted) {
    si.StartupInfo.cb = sizeof(STARTUPINFOW);
    HANDLE token = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY | TOKEN_ADJUST_DEFAULT, &token))
      fail(L"OpenProcessToken", GetLastError());
    sid = random_sid();
    SID_AND_ATTRIBUTES restricting[1] = {{sid, 0}};
    if (!CreateRestrictedToken(token, DISABLE_MAX_PRIVILEGE | WRITE_RESTRICTED | LUA_TOKEN, 0, NULL, 0, NULL, 1, restricting, &restricted_token))
      fail(L"CreateRestrictedToken", GetLastError());
    CloseHandle(token);
    apply_acls(&o, sid);
    ok = CreateProcessAsUserW(restricted_token, NULL, cmd, NULL, NULL, TRUE, flags, NULL, NULL, &si.StartupInfo, &pi);
  } else {
    si.StartupInfo.cb = sizeof(STARTUPINFOW);
    ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, flags, NULL, NULL, &si.StartupInfo, &pi);
  }
  if (!ok) {
    DWORD err = GetLastError();
    restore_acls();
    if (appcontainer && del) del(container);
    fail(L"CreateProcess", err);
  }
  if (!AssignProcessToJobObject(job, pi.hProcess)) {
    DWORD err = GetLastError();
    TerminateProcess(pi.hProcess, SETUP_EXIT);
    restore_acls();
    if (appcontainer && del) del(container);
    fail(L"AssignProcessToJobObject", err);
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);
  DWORD wait = WaitForSingleObject(pi.hProcess, o.timeout_ms ? o.timeout_ms : INFINITE);
  DWORD code = 0;
  int timed_out = wait == WAIT_TIMEOUT;
  /* The command is done (or out of time): nothing it started may outlive it. */
  TerminateJobObject(job, timed_out ? TIMEOUT_EXIT : 0);
  WaitForSingleObject(pi.hProcess, 5000);
  if (!GetExitCodeProcess(pi.hProcess, &code)) code = SETUP_EXIT;
  CloseHandle(pi.hProcess);
  CloseHandle(job);
  restore_acls();
  if (appcontainer && del) del(container);
  if (timed_out) {
    fwprintf(stderr, L"codex-sandbox-win: timeout after %lu ms\n", (unsigned long)o.timeout_ms);
    return TIMEOUT_EXIT;
  }
  return (int)code;
}
