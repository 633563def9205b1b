/* The demo ROM (roms/demo.asm) booted on the board: its debug-console output
 * must be exactly the expected lines, and the run must end in a halt. Needs
 * the real CPU. Also the board's ROM checks and memory map, and the run loop
 * on tiny ROMs: HLT with IF=0/1, exact timeouts, timers, triple fault. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "devices/pc.h"

struct membuf { char data[4096]; size_t len; };

static void mem_sink(void *opaque, uint8_t byte)
{
    struct membuf *m = opaque;
    if (m->len < sizeof(m->data) - 1)
        m->data[m->len++] = (char)byte;
}

static const char demo_expected[] =
    "demo: real mode\n"
    "demo: protected mode\n"
    "demo: #DE handled at the faulting DIV\n"
    "demo: #GP handled, error code 0x0048\n"
    "demo: ring 3 through IRET, CPL=3\n"
    "demo: back in ring 0 through call gate, CPL=0\n"
    "demo: ring 3 again through RETF, CPL=3\n"
    "demo: ring 0 through INT 0x80 interrupt gate, CPL=0\n"
    "demo: done\n";

static struct pc *boot_demo(struct membuf *out)
{
    char err[256];
    uint8_t *rom;
    struct pc_config cfg = { .ram_mib = 4, .debugcon_sink = mem_sink, .debugcon_opaque = out };
    int r = pc_read_rom_file(SV_ROM_DIR "/demo.bin", &rom, &cfg.rom_size, err, sizeof(err));
    ck_assert_msg(r == 0, "%s", err);
    ck_assert_uint_eq(cfg.rom_size, 0x10000);
    cfg.rom = rom;
    struct pc *pc = pc_create(&cfg, err, sizeof(err));
    free(rom);
    ck_assert_msg(pc != NULL, "%s", err);
    return pc;
}

START_TEST(test_demo_output)
{
    static struct membuf out;
    memset(&out, 0, sizeof(out));
    struct pc *pc = boot_demo(&out);
    /* One virtual second is far more than the demo needs. */
    enum runloop_exit why = pc_run(pc, 1000000000ull);
    ck_assert_str_eq(out.data, demo_expected);
    ck_assert_int_eq(why, RUNLOOP_HALTED);
    ck_assert_uint_eq(pc->cpu.cpl, 0);
    ck_assert(pc->cpu.icount > 100);
    /* Virtual time is exactly the retired instructions at the nominal rate. */
    ck_assert_uint_eq(vclock_now(&pc->clock), pc->cpu.icount * RUNLOOP_NS_PER_INSN + RUNLOOP_DRAIN_NS);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_demo_deterministic)
{
    static struct membuf a, b;
    memset(&a, 0, sizeof(a)); memset(&b, 0, sizeof(b));
    struct pc *p1 = boot_demo(&a), *p2 = boot_demo(&b);
    pc_run(p1, VCLOCK_NEVER);
    pc_run(p2, VCLOCK_NEVER);
    ck_assert_str_eq(a.data, b.data);
    ck_assert_uint_eq(p1->cpu.icount, p2->cpu.icount);
    ck_assert_uint_eq(p1->cpu.eip, p2->cpu.eip);
    pc_destroy(p1);
    pc_destroy(p2);
}
END_TEST

START_TEST(test_demo_timeout)
{
    static struct membuf out;
    memset(&out, 0, sizeof(out));
    struct pc *pc = boot_demo(&out);
    /* 30 instructions' worth: the run stops in the middle, at that exact time. */
    ck_assert_int_eq(pc_run(pc, 30 * RUNLOOP_NS_PER_INSN), RUNLOOP_TIMEOUT);
    ck_assert_uint_eq(pc->cpu.icount, 30);
    ck_assert_uint_eq(vclock_now(&pc->clock), 300);
    ck_assert(strlen(out.data) < strlen(demo_expected));
    /* ...and resumes to the same end. */
    ck_assert_int_eq(pc_run(pc, VCLOCK_NEVER), RUNLOOP_HALTED);
    ck_assert_str_eq(out.data, demo_expected);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_rom_mapping)
{
    static struct membuf out;
    struct pc *pc = boot_demo(&out);
    /* The reset vector is seen at the top of 4 GiB and at 0xFFFF0 (mirror). */
    ck_assert_uint_eq(phys_read(&pc->pm, 0xFFFFFFF0u, 1), 0xEA);
    ck_assert_uint_eq(phys_read(&pc->pm, 0xFFFF0, 1), 0xEA);
    ck_assert_uint_eq(phys_read(&pc->pm, 0xFFFF0001u, 4), phys_read(&pc->pm, 0xF0001, 4));
    /* ROM is read-only, RAM below it is RAM, nothing answers at 0xC0000
     * until firmware shadows it (PAM). */
    phys_write(&pc->pm, 0xFFFF0, 0x12, 1);
    ck_assert_uint_eq(phys_read(&pc->pm, 0xFFFF0, 1), 0xEA);
    phys_write(&pc->pm, 0x9FFFC, 0x11223344, 4);
    ck_assert_uint_eq(phys_read(&pc->pm, 0x9FFFC, 4), 0x11223344);
    ck_assert_uint_eq(phys_read(&pc->pm, 0xC0000, 4), 0xFFFFFFFFu);
    /* The debug console answers reads with its readback value. */
    ck_assert_uint_eq(bus_read(&pc->io, 0xE9, 1), 0xE9);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_bad_config)
{
    char err[256];
    static uint8_t rom[0x3000];
    struct pc_config cfg = { .ram_mib = 4, .rom = rom, .rom_size = 0x1800 };
    ck_assert_ptr_null(pc_create(&cfg, err, sizeof(err)));
    ck_assert_str_eq(err, "firmware image: size 6144 bytes is not a multiple of 4 KiB");
    cfg.rom_size = 0;
    ck_assert_ptr_null(pc_create(&cfg, err, sizeof(err)));
    cfg.rom_size = 0x3000;
    cfg.ram_mib = 0;
    ck_assert_ptr_null(pc_create(&cfg, err, sizeof(err)));
    ck_assert_str_eq(err, "memory size 0 MiB out of range (1-3584)");
    uint8_t *data;
    uint32_t size;
    ck_assert_int_eq(pc_read_rom_file(SV_ROM_DIR "/no-such.bin", &data, &size, err, sizeof(err)), -1);
    ck_assert_str_eq(err, SV_ROM_DIR "/no-such.bin: No such file or directory");
    ck_assert_int_eq(pc_read_rom_file(SV_ROM_DIR, &data, &size, err, sizeof(err)), -1);
    ck_assert_str_eq(err, SV_ROM_DIR ": not a regular file");
}
END_TEST

/* A 4 KiB ROM whose reset vector (offset 0xFF0) holds `code`. */
static struct pc *boot_code(const uint8_t *code, size_t len)
{
    static uint8_t rom[0x1000];
    char err[256];
    memset(rom, 0xF4, sizeof(rom));
    memcpy(rom + 0xFF0, code, len);
    struct pc_config cfg = { .ram_mib = 1, .rom = rom, .rom_size = sizeof(rom) };
    struct pc *pc = pc_create(&cfg, err, sizeof(err));
    ck_assert_msg(pc != NULL, "%s", err);
    return pc;
}

struct alarm { struct timer t; uint64_t fired_at; int fired; };
static void alarm_fn(void *opaque)
{
    struct alarm *a = opaque;
    a->fired++;
    a->fired_at = vclock_now(a->t.clock);
}

START_TEST(test_hlt_if0_ends_run)
{
    static const uint8_t code[] = { 0xFA, 0xF4 };            /* cli; hlt */
    struct pc *pc = boot_code(code, sizeof(code));
    ck_assert_int_eq(pc_run(pc, VCLOCK_NEVER), RUNLOOP_HALTED);
    ck_assert_uint_eq(pc->cpu.icount, 2);
    ck_assert_uint_eq(vclock_now(&pc->clock), 2 * RUNLOOP_NS_PER_INSN + RUNLOOP_DRAIN_NS);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_hlt_if1_skips_to_deadline)
{
    static const uint8_t code[] = { 0xFB, 0xF4, 0xEB, 0xFD }; /* sti; hlt; jmp hlt */
    struct pc *pc = boot_code(code, sizeof(code));
    struct alarm a = { .fired = 0 };
    timer_init(&a.t, &pc->clock, alarm_fn, &a);
    timer_arm(&a.t, 5000000);                                 /* 5 ms */
    /* No interrupt is unmasked, so the CPU sleeps through every timer (the
     * board's own included) until the limit: 2 instructions in 10 ms. */
    ck_assert_int_eq(pc_run(pc, 10000000), RUNLOOP_TIMEOUT);
    ck_assert_int_eq(a.fired, 1);
    ck_assert_uint_eq(a.fired_at, 5000000);
    ck_assert_uint_eq(vclock_now(&pc->clock), 10000000);
    ck_assert_uint_eq(pc->cpu.icount, 2);
    ck_assert_uint_eq(pc->loop.halt_skipped_ns, 10000000 - 2 * RUNLOOP_NS_PER_INSN);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_timeout_exact)
{
    static const uint8_t code[] = { 0xEB, 0xFE };             /* jmp $ */
    struct pc *pc = boot_code(code, sizeof(code));
    ck_assert_int_eq(pc_run(pc, 1000000), RUNLOOP_TIMEOUT);   /* 1 ms */
    ck_assert_uint_eq(pc->cpu.icount, 1000000 / RUNLOOP_NS_PER_INSN);
    ck_assert_uint_eq(vclock_now(&pc->clock), 1000000);
    /* The limit counts from the current time. */
    ck_assert_int_eq(pc_run(pc, 1000000), RUNLOOP_TIMEOUT);
    ck_assert_uint_eq(vclock_now(&pc->clock), 2000000);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_timers_fire_mid_run)
{
    static const uint8_t code[] = { 0xEB, 0xFE };             /* jmp $ */
    struct pc *pc = boot_code(code, sizeof(code));
    struct alarm a = { .fired = 0 };
    timer_init(&a.t, &pc->clock, alarm_fn, &a);
    timer_arm(&a.t, 12345);
    ck_assert_int_eq(pc_run(pc, 100000), RUNLOOP_TIMEOUT);
    ck_assert_int_eq(a.fired, 1);
    ck_assert_uint_eq(a.fired_at, 12345);
    pc_destroy(pc);
}
END_TEST

START_TEST(test_triple_fault)
{
    /* lidt [0] (RAM: limit 0), then int3: #GP, #DF, shutdown. */
    static const uint8_t code[] = { 0x0F, 0x01, 0x1E, 0x00, 0x00, 0xCC };
    struct pc *pc = boot_code(code, sizeof(code));
    ck_assert_int_eq(pc_run(pc, 1000000), RUNLOOP_SHUTDOWN);
    ck_assert(pc->cpu.shutdown);
    pc_destroy(pc);
}
END_TEST

Suite *demo_rom_suite(void)
{
    Suite *s = suite_create("demo_rom");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_demo_output);
    tcase_add_test(tc, test_demo_deterministic);
    tcase_add_test(tc, test_demo_timeout);
    tcase_add_test(tc, test_rom_mapping);
    tcase_add_test(tc, test_bad_config);
    suite_add_tcase(s, tc);
    TCase *rl = tcase_create("runloop");
    tcase_add_test(rl, test_hlt_if0_ends_run);
    tcase_add_test(rl, test_hlt_if1_skips_to_deadline);
    tcase_add_test(rl, test_timeout_exact);
    tcase_add_test(rl, test_timers_fire_mid_run);
    tcase_add_test(rl, test_triple_fault);
    suite_add_tcase(s, rl);
    return s;
}
