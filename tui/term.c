/* Terminal ownership (see term.h). */
#include "term.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

#include "engine/log.h"
#include "keymap.h"

static bool g_active;
static ui_term_caps g_caps;
static struct termios g_tios;
static bool g_have_tios;
static int g_saved_stderr = -1;
static atomic_int g_restored; /* the emergency reset ran (or curses ended normally) */
static char g_reset[256];     /* the terminal's exit sequences, for the signal-safe reset */
static size_t g_reset_len;
static int g_pipe[2] = {-1, -1};
static volatile sig_atomic_t g_signal;
static const int CRASH_SIGNALS[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static const int STOP_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction g_old_crash[5], g_old_stop[3];
static int g_pairs[UI_R_COUNT];
static int g_role_attr[UI_R_COUNT];

/* Async-signal-safe: write(2), tcsetattr(3) and dup2(2) only. */
static void emergency_reset(void) {
    if (atomic_exchange(&g_restored, 1)) return;
    if (g_reset_len) {
        ssize_t w = write(STDOUT_FILENO, g_reset, g_reset_len);
        (void)w;
    }
    if (g_have_tios) tcsetattr(STDIN_FILENO, TCSANOW, &g_tios);
    if (g_saved_stderr >= 0) dup2(g_saved_stderr, STDERR_FILENO);
}

static void on_crash(int sig, siginfo_t *si, void *ctx) {
    (void)ctx;
    emergency_reset();
    static const char msg[] = "\ndiffstudio: crashed; the terminal was restored\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    for (size_t i = 0; i < sizeof CRASH_SIGNALS / sizeof *CRASH_SIGNALS; i++)
        if (CRASH_SIGNALS[i] == sig) sigaction(sig, &g_old_crash[i], NULL);
    /* a fault re-executes and meets the previous handler; a sent signal is sent again */
    if (sig == SIGABRT || si->si_code <= 0) raise(sig);
}

static void on_stop(int sig) {
    g_signal = sig;
    char c = 1;
    ssize_t w = write(g_pipe[1], &c, 1);
    (void)w;
}

static void abort_hook(void) { emergency_reset(); }

static void add_cap(const char *name) {
    const char *s = tigetstr(name);
    if (!s || s == (char *)-1) return;
    size_t n = strlen(s);
    if (g_reset_len + n >= sizeof g_reset) return;
    memcpy(g_reset + g_reset_len, s, n);
    g_reset_len += n;
}

static void setup_colors(void) {
    for (int r = 0; r < UI_R_COUNT; r++) g_role_attr[r] = A_NORMAL;
    g_role_attr[UI_R_DIM] = A_DIM;
    g_role_attr[UI_R_TITLE] = A_BOLD;
    g_role_attr[UI_R_TAB] = A_NORMAL;
    g_role_attr[UI_R_TAB_ACTIVE] = A_REVERSE | A_BOLD;
    g_role_attr[UI_R_SELECT] = A_REVERSE;
    g_role_attr[UI_R_KEY] = A_BOLD;
    g_role_attr[UI_R_STATUS] = A_REVERSE;
    g_role_attr[UI_R_ERROR] = A_BOLD | A_UNDERLINE;
    g_role_attr[UI_R_WARN] = A_BOLD;
    g_role_attr[UI_R_DEFAULT_VALUE] = A_DIM;
    g_role_attr[UI_R_AXIS] = A_DIM;
    g_role_attr[UI_R_RAW] = A_DIM;
    g_role_attr[UI_R_SMOOTH] = A_BOLD;
    g_role_attr[UI_R_CURSOR] = A_REVERSE;
    g_role_attr[UI_R_MARK] = A_BOLD;
    g_role_attr[UI_R_INPUT] = A_UNDERLINE;
    if (!g_caps.colors) return;
    /* fg, bg per role; -1 = the terminal's default */
    static const short fgbg[][2] = {
        [UI_R_NORMAL] = {-1, -1},       [UI_R_DIM] = {-1, -1},
        [UI_R_TITLE] = {COLOR_CYAN, -1}, [UI_R_TAB] = {-1, -1},
        [UI_R_TAB_ACTIVE] = {COLOR_BLACK, COLOR_CYAN}, [UI_R_SELECT] = {COLOR_BLACK, COLOR_CYAN},
        [UI_R_KEY] = {COLOR_YELLOW, -1}, [UI_R_STATUS] = {COLOR_BLACK, COLOR_WHITE},
        [UI_R_ERROR] = {COLOR_RED, -1},  [UI_R_WARN] = {COLOR_YELLOW, -1},
        [UI_R_OK] = {COLOR_GREEN, -1},   [UI_R_DEFAULT_VALUE] = {-1, -1},
        [UI_R_AXIS] = {-1, -1},          [UI_R_RAW] = {COLOR_BLUE, -1},
        [UI_R_SMOOTH] = {COLOR_YELLOW, -1}, [UI_R_SERIES2] = {COLOR_GREEN, -1},
        [UI_R_CURSOR] = {COLOR_BLACK, COLOR_YELLOW}, [UI_R_MARK] = {COLOR_MAGENTA, -1},
        [UI_R_INPUT] = {COLOR_WHITE, COLOR_BLUE},
    };
    static const short bucket[10] = {COLOR_BLUE, COLOR_CYAN, COLOR_GREEN, COLOR_YELLOW, COLOR_RED,
                                     COLOR_MAGENTA, COLOR_BLUE, COLOR_CYAN, COLOR_GREEN, COLOR_YELLOW};
    for (int r = 1; r < UI_R_COUNT; r++) {
        short fg = r >= UI_R_BUCKET0 ? bucket[r - UI_R_BUCKET0] : fgbg[r][0];
        short bg = r >= UI_R_BUCKET0 ? -1 : fgbg[r][1];
        if (r >= UI_R_BUCKET0 + 6 && g_caps.colors >= 16) fg = (short)(fg + 8); /* bright variants */
        if (init_pair((short)r, fg, bg) == OK) g_pairs[r] = r;
        int base = r == UI_R_TAB_ACTIVE || r == UI_R_TITLE || r == UI_R_SMOOTH || r == UI_R_ERROR ? A_BOLD : 0;
        if (r == UI_R_DIM || r == UI_R_DEFAULT_VALUE || r == UI_R_AXIS) base = A_DIM;
        g_role_attr[r] = (int)(COLOR_PAIR(r) | (attr_t)base);
    }
}

bool ui_term_start(const char *stderr_log, ui_term_caps *caps, char *err, size_t n) {
    if (g_active) return true;
    setlocale(LC_ALL, "");
    memset(&g_caps, 0, sizeof g_caps);
    const char *cs = nl_langinfo(CODESET);
    g_caps.utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8")) && !getenv("DIFFSTUDIO_ASCII");
    g_have_tios = tcgetattr(STDIN_FILENO, &g_tios) == 0;
    if (pipe(g_pipe) != 0) {
        snprintf(err, n, "cannot create a pipe: %s", strerror(errno));
        return false;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(g_pipe[i], F_SETFL, fcntl(g_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(g_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    if (stderr_log) {
        int fd = open(stderr_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            g_saved_stderr = dup(STDERR_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
    }
    if (!initscr()) {
        if (g_saved_stderr >= 0) {
            dup2(g_saved_stderr, STDERR_FILENO);
            close(g_saved_stderr);
            g_saved_stderr = -1;
        }
        snprintf(err, n, "cannot initialise the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        return false;
    }
    g_active = true;
    atomic_store(&g_restored, 0);
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    g_reset_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");
    if (has_colors() && !getenv("NO_COLOR")) {
        start_color();
        use_default_colors();
        g_caps.colors = COLORS >= 256 ? 256 : COLORS;
    }
    setup_colors();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof CRASH_SIGNALS / sizeof *CRASH_SIGNALS; i++)
        sigaction(CRASH_SIGNALS[i], &sa, &g_old_crash[i]);
    struct sigaction st;
    memset(&st, 0, sizeof st);
    st.sa_handler = on_stop;
    sigemptyset(&st.sa_mask);
    for (size_t i = 0; i < sizeof STOP_SIGNALS / sizeof *STOP_SIGNALS; i++)
        sigaction(STOP_SIGNALS[i], &st, &g_old_stop[i]);
    ds_set_abort_hook(abort_hook);
    *caps = g_caps;
    return true;
}

void ui_term_end(void) {
    if (!g_active) return;
    ds_set_abort_hook(NULL);
    for (size_t i = 0; i < sizeof CRASH_SIGNALS / sizeof *CRASH_SIGNALS; i++)
        sigaction(CRASH_SIGNALS[i], &g_old_crash[i], NULL);
    for (size_t i = 0; i < sizeof STOP_SIGNALS / sizeof *STOP_SIGNALS; i++)
        sigaction(STOP_SIGNALS[i], &g_old_stop[i], NULL);
    curs_set(1);
    endwin();
    atomic_store(&g_restored, 1);
    if (g_saved_stderr >= 0) {
        fflush(stderr);
        dup2(g_saved_stderr, STDERR_FILENO);
        close(g_saved_stderr);
        g_saved_stderr = -1;
    }
    close(g_pipe[0]);
    close(g_pipe[1]);
    g_pipe[0] = g_pipe[1] = -1;
    g_active = false;
}

bool ui_term_active(void) { return g_active; }

int ui_term_key(void) {
    wint_t wc;
    int r = wget_wch(stdscr, &wc);
    if (r == ERR) return UI_KEY_NONE;
    if (r == OK) {
        if (wc == '\r' || wc == '\n') return UI_KEY_ENTER;
        if (wc == 127 || wc == 8) return UI_KEY_BACKSPACE;
        return (int)wc;
    }
    switch (wc) { /* KEY_CODE_YES */
    case KEY_UP: return UI_KEY_UP;
    case KEY_DOWN: return UI_KEY_DOWN;
    case KEY_LEFT: return UI_KEY_LEFT;
    case KEY_RIGHT: return UI_KEY_RIGHT;
    case KEY_HOME: return UI_KEY_HOME;
    case KEY_END: return UI_KEY_END;
    case KEY_PPAGE: return UI_KEY_PGUP;
    case KEY_NPAGE: return UI_KEY_PGDN;
    case KEY_BACKSPACE: return UI_KEY_BACKSPACE;
    case KEY_DC: return UI_KEY_DELETE;
    case KEY_IC: return UI_KEY_INSERT;
    case KEY_BTAB: return UI_KEY_BTAB;
    case KEY_ENTER: return UI_KEY_ENTER;
    case KEY_RESIZE: return UI_KEY_RESIZE;
    default:
        if (wc >= KEY_F(1) && wc <= KEY_F(12)) return UI_KEY_F1 + (int)(wc - KEY_F(1));
        return UI_KEY_NONE;
    }
}

int ui_term_signal_fd(void) { return g_pipe[0]; }

int ui_term_signal(void) {
    char buf[64];
    while (g_pipe[0] >= 0 && read(g_pipe[0], buf, sizeof buf) > 0) {
    }
    int s = g_signal;
    g_signal = 0;
    return s;
}

int ui_attr(int role) { return role >= 0 && role < UI_R_COUNT ? g_role_attr[role] : (int)A_NORMAL; }

int ui_term_pair(int fg, int bg) {
    enum { FIRST = 64, CACHE = 1024 };
    static int keys[CACHE], used;
    if (!g_caps.colors) return 0;
    int key = (fg + 1) * 512 + (bg + 1);
    for (int i = 0; i < used; i++)
        if (keys[i] == key) return FIRST + i;
    if (used == CACHE || FIRST + used >= COLOR_PAIRS) return 0;
    if (init_pair((short)(FIRST + used), (short)fg, (short)bg) != OK) return 0;
    keys[used] = key;
    return FIRST + used++;
}
