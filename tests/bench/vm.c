/* Interpreter workload (set b): a small stack-machine bytecode VM running
 * three programs (recursive Fibonacci: calls and returns; a prime sieve in VM
 * memory: loads, stores, nested loops; an LCG mixing loop: arithmetic), each
 * under two dispatchers: a switch in a loop (one indirect jump through a
 * table) and direct threading with computed gotos (an indirect jump after
 * every instruction). Both must agree; the checksum covers results and
 * instruction counts. */
#include <string.h>

#include "bench.h"

enum op {
    OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR, OP_SHL,
    OP_SHR, OP_LT, OP_JZ, OP_JMP, OP_CALL, OP_RET, OP_DUP, OP_DROP, OP_LDM,
    OP_STM, OP_SWAP, OP_HALT, OP_COUNT
};

#define MAXCODE 256
#define STACK 4096
#define MEMSZ 65536

struct prog {
    int32_t code[MAXCODE];
    int n;
};

struct vm {
    int32_t stack[STACK];       /* operands */
    int32_t frames[STACK];      /* return addresses and frame pointers */
    int32_t locals[STACK * 4];  /* 4 locals per frame */
    int32_t mem[MEMSZ];
    uint32_t steps;
};

static int emit(struct prog *p, int op, int32_t imm, int has_imm)
{
    int at = p->n;
    p->code[p->n++] = op;
    if (has_imm)
        p->code[p->n++] = imm;
    return at;
}
#define E0(p, op) emit(p, op, 0, 0)
#define E1(p, op, v) emit(p, op, v, 1)
/* Patch the immediate of a jump emitted at 'at' to point here. */
static void patch(struct prog *p, int at) { p->code[at + 1] = p->n; }

/* fib(n): locals[0] = n. if n < 2 return n; return fib(n-1) + fib(n-2). */
static void build_fib(struct prog *p, int n)
{
    p->n = 0;
    E1(p, OP_PUSH, n);
    int call0 = E1(p, OP_CALL, 0);
    E0(p, OP_HALT);
    int fn = p->n;
    p->code[call0 + 1] = fn;
    E0(p, OP_STORE); p->code[p->n++] = 0;       /* n -> local 0 */
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, 2); E0(p, OP_LT);
    int jz = E1(p, OP_JZ, 0);
    E1(p, OP_LOAD, 0); E0(p, OP_RET);
    patch(p, jz);
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, 1); E0(p, OP_SUB); E1(p, OP_CALL, fn);
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, 2); E0(p, OP_SUB); E1(p, OP_CALL, fn);
    E0(p, OP_ADD); E0(p, OP_RET);
}

/* Sieve of Eratosthenes over mem[0..lim): returns the number of primes. */
static void build_sieve(struct prog *p, int lim)
{
    p->n = 0;
    E1(p, OP_PUSH, 2); E0(p, OP_STORE); p->code[p->n++] = 0;     /* i = 2 */
    E1(p, OP_PUSH, 0); E0(p, OP_STORE); p->code[p->n++] = 2;     /* count = 0 */
    int outer = p->n;
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, lim); E0(p, OP_LT);
    int done = E1(p, OP_JZ, 0);
    E1(p, OP_LOAD, 0); E0(p, OP_LDM);                             /* composite? */
    E1(p, OP_PUSH, 0); E0(p, OP_SWAP); E0(p, OP_LT);              /* 0 < mem[i] */
    int next = E1(p, OP_JZ, 0);
    int skip = E1(p, OP_JMP, 0);
    patch(p, next);
    E1(p, OP_LOAD, 2); E1(p, OP_PUSH, 1); E0(p, OP_ADD); E0(p, OP_STORE); p->code[p->n++] = 2;
    E1(p, OP_LOAD, 0); E1(p, OP_LOAD, 0); E0(p, OP_ADD); E0(p, OP_STORE); p->code[p->n++] = 1;
    int inner = p->n;                                             /* j = 2i; j < lim; j += i */
    E1(p, OP_LOAD, 1); E1(p, OP_PUSH, lim); E0(p, OP_LT);
    int idone = E1(p, OP_JZ, 0);
    E1(p, OP_PUSH, 1); E1(p, OP_LOAD, 1); E0(p, OP_STM);
    E1(p, OP_LOAD, 1); E1(p, OP_LOAD, 0); E0(p, OP_ADD); E0(p, OP_STORE); p->code[p->n++] = 1;
    E1(p, OP_JMP, inner);
    patch(p, idone);
    patch(p, skip);
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, 1); E0(p, OP_ADD); E0(p, OP_STORE); p->code[p->n++] = 0;
    E1(p, OP_JMP, outer);
    patch(p, done);
    E1(p, OP_LOAD, 2); E0(p, OP_HALT);
}

/* x = x * 1103515245 + 12345; acc ^= (x >> 7) + (acc << 3), n times. */
static void build_lcg(struct prog *p, int n, int seed)
{
    p->n = 0;
    E1(p, OP_PUSH, seed); E0(p, OP_STORE); p->code[p->n++] = 0;
    E1(p, OP_PUSH, n); E0(p, OP_STORE); p->code[p->n++] = 1;
    E1(p, OP_PUSH, 0); E0(p, OP_STORE); p->code[p->n++] = 2;
    int top = p->n;
    E1(p, OP_PUSH, 0); E1(p, OP_LOAD, 1); E0(p, OP_LT);
    int done = E1(p, OP_JZ, 0);
    E1(p, OP_LOAD, 0); E1(p, OP_PUSH, 1103515245); E0(p, OP_MUL);
    E1(p, OP_PUSH, 12345); E0(p, OP_ADD); E0(p, OP_DUP); E0(p, OP_STORE); p->code[p->n++] = 0;
    E1(p, OP_PUSH, 7); E0(p, OP_SHR);
    E1(p, OP_LOAD, 2); E1(p, OP_PUSH, 3); E0(p, OP_SHL); E0(p, OP_ADD);
    E1(p, OP_LOAD, 2); E0(p, OP_XOR); E1(p, OP_PUSH, 0x7fffffff); E0(p, OP_AND);
    E0(p, OP_STORE); p->code[p->n++] = 2;
    E1(p, OP_LOAD, 1); E1(p, OP_PUSH, 1); E0(p, OP_SUB); E0(p, OP_STORE); p->code[p->n++] = 1;
    E1(p, OP_JMP, top);
    patch(p, done);
    E1(p, OP_LOAD, 2); E0(p, OP_HALT);
}

#define U(x) ((uint32_t)(x))

/* Dispatcher 1: switch in a loop. */
static int32_t run_switch(struct vm *v, const int32_t *code)
{
    int pc = 0, sp = 0, fp = 0, rp = 0;
    int32_t *s = v->stack, *l = v->locals;
    uint32_t steps = 0;
    for (;;) {
        steps++;
        switch (code[pc++]) {
        case OP_PUSH: s[sp++] = code[pc++]; break;
        case OP_LOAD: s[sp++] = l[fp + code[pc++]]; break;
        case OP_STORE: l[fp + code[pc++]] = s[--sp]; break;
        case OP_ADD: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) + U(s[sp])); break;
        case OP_SUB: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) - U(s[sp])); break;
        case OP_MUL: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) * U(s[sp])); break;
        case OP_AND: sp--; s[sp - 1] &= s[sp]; break;
        case OP_XOR: sp--; s[sp - 1] ^= s[sp]; break;
        case OP_SHL: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) << (s[sp] & 31)); break;
        case OP_SHR: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) >> (s[sp] & 31)); break;
        case OP_LT: sp--; s[sp - 1] = s[sp - 1] < s[sp]; break;
        case OP_JZ: pc = s[--sp] ? pc + 1 : code[pc]; break;
        case OP_JMP: pc = code[pc]; break;
        case OP_CALL:
            v->frames[rp++] = pc + 1;
            v->frames[rp++] = fp;
            fp += 4;
            pc = code[pc];
            break;
        case OP_RET: fp = v->frames[--rp]; pc = v->frames[--rp]; break;
        case OP_DUP: s[sp] = s[sp - 1]; sp++; break;
        case OP_DROP: sp--; break;
        case OP_LDM: s[sp - 1] = v->mem[U(s[sp - 1]) % MEMSZ]; break;
        case OP_STM: sp -= 2; v->mem[U(s[sp + 1]) % MEMSZ] = s[sp]; break;
        case OP_SWAP: { int32_t t = s[sp - 1]; s[sp - 1] = s[sp - 2]; s[sp - 2] = t; break; }
        case OP_HALT: v->steps = steps; return s[sp - 1];
        default: v->steps = steps; return -1;
        }
    }
}

/* Dispatcher 2: direct threading (the code translated to label addresses). */
static int32_t run_threaded(struct vm *v, const int32_t *code, int n)
{
    static const void *tab[OP_COUNT] = {
        &&push, &&load, &&store, &&add, &&sub, &&mul, &&and_, &&xor_, &&shl,
        &&shr, &&lt_, &&jz, &&jmp, &&call, &&ret, &&dup, &&drop, &&ldm, &&stm,
        &&swap, &&halt
    };
    static const int has_imm[OP_COUNT] = {
        [OP_PUSH] = 1, [OP_LOAD] = 1, [OP_STORE] = 1, [OP_JZ] = 1, [OP_JMP] = 1,
        [OP_CALL] = 1
    };
    const void *th[MAXCODE];
    int32_t imm[MAXCODE];
    for (int i = 0; i < n; i++) {
        th[i] = tab[code[i]];
        if (has_imm[code[i]]) {
            imm[i] = code[i + 1];
            th[i + 1] = NULL;
            i++;
        }
    }
    int pc = 0, sp = 0, fp = 0, rp = 0;
    int32_t *s = v->stack, *l = v->locals;
    uint32_t steps = 0;
#define NEXT do { steps++; goto *th[pc]; } while (0)
#define NEXT1 do { pc += 1; NEXT; } while (0)
#define NEXT2 do { pc += 2; NEXT; } while (0)
    NEXT;
push: s[sp++] = imm[pc]; NEXT2;
load: s[sp++] = l[fp + imm[pc]]; NEXT2;
store: l[fp + imm[pc]] = s[--sp]; NEXT2;
add: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) + U(s[sp])); NEXT1;
sub: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) - U(s[sp])); NEXT1;
mul: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) * U(s[sp])); NEXT1;
and_: sp--; s[sp - 1] &= s[sp]; NEXT1;
xor_: sp--; s[sp - 1] ^= s[sp]; NEXT1;
shl: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) << (s[sp] & 31)); NEXT1;
shr: sp--; s[sp - 1] = (int32_t)(U(s[sp - 1]) >> (s[sp] & 31)); NEXT1;
lt_: sp--; s[sp - 1] = s[sp - 1] < s[sp]; NEXT1;
jz: if (s[--sp]) NEXT2; pc = imm[pc]; NEXT;
jmp: pc = imm[pc]; NEXT;
call: v->frames[rp++] = pc + 2; v->frames[rp++] = fp; fp += 4; pc = imm[pc]; NEXT;
ret: fp = v->frames[--rp]; pc = v->frames[--rp]; NEXT;
dup: s[sp] = s[sp - 1]; sp++; NEXT1;
drop: sp--; NEXT1;
ldm: s[sp - 1] = v->mem[U(s[sp - 1]) % MEMSZ]; NEXT1;
stm: sp -= 2; v->mem[U(s[sp + 1]) % MEMSZ] = s[sp]; NEXT1;
swap: { int32_t t = s[sp - 1]; s[sp - 1] = s[sp - 2]; s[sp - 2] = t; } NEXT1;
halt: v->steps = steps; return s[sp - 1];
#undef NEXT
#undef NEXT1
#undef NEXT2
}

static uint32_t run_both(struct vm *v, const struct prog *p, uint32_t *part)
{
    memset(v->mem, 0, sizeof v->mem);
    int32_t a = run_switch(v, p->code);
    uint32_t sa = v->steps;
    memset(v->mem, 0, sizeof v->mem);
    int32_t b = run_threaded(v, p->code, p->n);
    uint32_t h = bench_mix(bench_mix(0, U(a)), sa);
    if (a != b || sa != v->steps) {
        fprintf(stderr, "vm: dispatchers disagree: %d/%u vs %d/%u\n", (int)a,
                (unsigned)sa, (int)b, (unsigned)v->steps);
        h = bench_mix(h, 0xbadu);
    }
    *part = bench_mix(*part, h);
    return h;
}

int main(int argc, char **argv)
{
    int reps = bench_reps(argc, argv, 40);
    static struct vm v;
    struct prog p;
    uint64_t t0 = bench_now_ms();
    uint32_t h = 0, part[3] = { 0, 0, 0 };
    for (int r = 0; r < reps; r++) {
        build_fib(&p, 22 + r % 3);
        h = bench_mix(h, run_both(&v, &p, &part[0]));
        build_sieve(&p, 40000 + r * 100);
        h = bench_mix(h, run_both(&v, &p, &part[1]));
        build_lcg(&p, 300000, r * 7919 + 1);
        h = bench_mix(h, run_both(&v, &p, &part[2]));
    }
    bench_report("vm", h, t0, reps);
    printf("bench: vm-parts fib=0x%08x sieve=0x%08x lcg=0x%08x\n",
           (unsigned)part[0], (unsigned)part[1], (unsigned)part[2]);
    return 0;
}
