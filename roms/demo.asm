; Softvisor demo ROM: a 64 KiB flat firmware image that walks an x86 CPU from
; reset to ring 3 and back, printing one line per step on the debug console
; (port 0xE9). Steps: real mode at F000:FFF0, GDT and 32-bit protected mode,
; IDT with #DE and #GP (error code and faulting EIP checked), TSS and IRET to
; ring 3, back to ring 0 through a call gate, RETF to ring 3, INT 0x80 through
; a DPL 3 interrupt gate, then CLI; HLT. Any other exception prints its vector
; and halts. Intel SDM vol. 3A ch. 3 (segments), 5 (protection), 6 (interrupts),
; 7 (tasks). Build: nasm -f bin -o demo.bin demo.asm
;
; The image is mapped at 0xF0000 (and at 0xFFFF0000); protected-mode code uses
; flat segments, so labels are linear addresses (org 0xF0000) and real-mode
; code refers to them by offset from the image start, R(x).

        bits 16
        org 0xF0000

%define R(x) ((x) - $$)
DEBUGCON  equ 0xE9

; RAM layout (all below 64 KiB)
GDT_RAM   equ 0x1000
IDT_RAM   equ 0x2000
TSS_RAM   equ 0x3000
STACK3    equ 0x6000        ; ring 3 stack top
STACK0    equ 0x8000        ; ring 0 stack top (TSS.ESP0 too)

SEL_CODE0 equ 0x08
SEL_DATA0 equ 0x10
SEL_CODE3 equ 0x18 | 3
SEL_DATA3 equ 0x20 | 3
SEL_TSS   equ 0x28
SEL_GATE  equ 0x30 | 3
SEL_BAD   equ 0x48          ; beyond the GDT limit: #GP(0x48)

; ---------------------------------------------------------------- real mode
start16:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, 0x7000
        mov ax, cs
        mov ds, ax
        mov si, R(msg_real)
        call print16
        ; The GDT goes to RAM: the CPU writes accessed and busy bits into it.
        xor ax, ax
        mov es, ax
        mov si, R(gdt)
        mov di, GDT_RAM
        mov cx, gdt_end - gdt
        rep movsb
        lgdt [R(gdtr)]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword SEL_CODE0:pm_entry

print16:                        ; ds:si -> NUL-terminated string
        mov dx, DEBUGCON
.next:  lodsb
        test al, al
        jz .done
        out dx, al
        jmp .next
.done:  ret

; ---------------------------------------------------------- protected mode
        bits 32
pm_entry:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STACK0
        mov esi, msg_pmode
        call print
        call build_idt
        lidt [idtr]

        ; #DE: a fault, so the pushed EIP is the DIV itself.
        xor edx, edx
        xor ecx, ecx
        mov eax, 1
de_fault:
        div ecx
        mov esi, msg_de_missed   ; not reached when #DE is delivered
        jmp fail
de_resume:

        ; #GP: loading a selector beyond the GDT limit; error code = selector.
        mov ax, SEL_BAD
gp_fault:
        mov ds, ax
        mov esi, msg_gp_missed
        jmp fail
gp_resume:
        mov ax, ds                   ; a faulting load leaves DS as it was
        cmp ax, SEL_DATA0
        mov esi, msg_gp_ds
        jne fail

        call build_tss_and_gate
        mov ax, SEL_TSS
        ltr ax
        ; IRET to ring 3 with IOPL 3, so that ring 3 may print with OUT.
        push dword SEL_DATA3
        push dword STACK3
        push dword 0x3002
        push dword SEL_CODE3
        push dword ring3_entry
        iretd

; ------------------------------------------------------------------ ring 3
ring3_entry:
        mov ax, SEL_DATA3            ; DS was nulled by the privilege drop
        mov ds, ax
        mov es, ax
        mov esi, msg_ring3
        call print
        call print_cpl
        call SEL_GATE:0              ; the offset is ignored: the gate has it
        ; back from the gate's RETF
        mov esi, msg_ring3_again
        call print
        call print_cpl
        int 0x80
        mov esi, msg_int80_missed
        jmp fail

; ---------------------------------------------------- ring 0 again: the gates
gate_target:
        mov esi, msg_gate
        call print
        call print_cpl
        ; The call gate switched to the TSS stack and pushed the caller's
        ; EIP, CS, ESP, SS there.
        cmp dword [esp + 4], SEL_CODE3
        mov esi, msg_gate_frame
        jne fail
        cmp dword [esp + 12], SEL_DATA3
        jne fail
        cmp esp, STACK0 - 16
        jne fail
        retf

int80_handler:
        mov esi, msg_int80
        call print
        call print_cpl
        cmp dword [esp + 4], SEL_CODE3  ; frame: EIP, CS, EFLAGS, ESP, SS
        mov esi, msg_int80_frame
        jne fail
        mov esi, msg_done
        call print
halt:   cli
        hlt
        jmp halt

fail:                               ; esi: what went wrong
        call print
        jmp halt

; ----------------------------------------------------- exception handlers
de_handler:                         ; frame: EIP, CS, EFLAGS
        cmp dword [esp], de_fault
        mov esi, msg_de_eip
        jne fail
        mov dword [esp], de_resume
        mov esi, msg_de
        call print
        iretd

gp_handler:                         ; frame: error code, EIP, CS, EFLAGS
        cmp dword [esp + 4], gp_fault
        mov esi, msg_gp_eip
        jne fail
        mov esi, msg_gp
        call print
        mov eax, [esp]
        call print_hex16
        mov esi, msg_nl
        call print
        cmp dword [esp], SEL_BAD
        mov esi, msg_gp_code
        jne fail
        mov dword [esp + 4], gp_resume
        add esp, 4                  ; drop the error code before IRET
        iretd

; One stub per vector 0-31: unexpected exceptions print their number, halt.
unexpected_stubs:
%assign v 0
%rep 32
        push strict dword v
        jmp strict near unexpected
        times 16 - 10 int3          ; each stub is 16 bytes
%assign v v + 1
%endrep

unexpected:
        mov ax, SEL_DATA0
        mov ds, ax
        mov esi, msg_unexpected
        call print
        pop eax
        call print_hex16
        mov esi, msg_nl
        call print
        jmp halt

; ------------------------------------------------------------ table set-up
; set_gate: ecx = vector, eax = handler, bx = type/attribute word (P, DPL, type)
set_gate:
        lea edi, [IDT_RAM + ecx * 8]
        mov [edi], ax
        mov word [edi + 2], SEL_CODE0
        mov [edi + 4], bx
        shr eax, 16
        mov [edi + 6], ax
        ret

build_idt:
        mov edi, IDT_RAM                ; all 256 gates not present...
        xor eax, eax
        mov ecx, 256 * 2
        rep stosd
        xor ecx, ecx                    ; ...but 0-31 go to the stubs
.stub:  mov eax, ecx
        shl eax, 4
        add eax, unexpected_stubs
        mov bx, 0x8E00                  ; present, DPL 0, 32-bit interrupt gate
        call set_gate
        inc ecx
        cmp ecx, 32
        jb .stub
        mov ecx, 0
        mov eax, de_handler
        call set_gate
        mov ecx, 13
        mov eax, gp_handler
        call set_gate
        mov ecx, 0x80
        mov eax, int80_handler
        mov bx, 0xEE00                  ; present, DPL 3: INT 0x80 from ring 3
        call set_gate
        ret

build_tss_and_gate:
        mov edi, TSS_RAM
        xor eax, eax
        mov ecx, 104 / 4
        rep stosd
        mov dword [TSS_RAM + 4], STACK0         ; ESP0
        mov dword [TSS_RAM + 8], SEL_DATA0      ; SS0
        mov word [TSS_RAM + 102], 104           ; no I/O bitmap
        ; Call gate at GDT slot 6: DPL 3, to SEL_CODE0:gate_target, 0 params.
        mov edi, GDT_RAM + (SEL_GATE & ~7)
        mov eax, gate_target
        mov [edi], ax
        mov word [edi + 2], SEL_CODE0
        mov word [edi + 4], 0xEC00              ; present, DPL 3, 32-bit call gate
        shr eax, 16
        mov [edi + 6], ax
        ret

; -------------------------------------------------------------- printing
print:                              ; ds:esi -> NUL-terminated string
        push eax
        push edx
        mov dx, DEBUGCON
.next:  lodsb
        test al, al
        jz .done
        out dx, al
        jmp .next
.done:  pop edx
        pop eax
        ret

print_cpl:                          ; "CPL=n\n", n from CS.RPL
        mov esi, msg_cpl
        call print
        mov ax, cs
        and al, 3
        add al, '0'
        mov dx, DEBUGCON
        out dx, al
        mov esi, msg_nl
        jmp print

print_hex16:                        ; ax as 0xhhhh
        push ebx
        push ecx
        push edx
        mov bx, ax
        mov dx, DEBUGCON
        mov al, '0'
        out dx, al
        mov al, 'x'
        out dx, al
        mov ecx, 4
.digit: rol bx, 4
        mov al, bl
        and al, 0x0F
        add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'a' - '9' - 1
.out:   out dx, al
        loop .digit
        pop edx
        pop ecx
        pop ebx
        ret

; ------------------------------------------------------------------- data
msg_real:         db "demo: real mode", 10, 0
msg_pmode:        db "demo: protected mode", 10, 0
msg_de:           db "demo: #DE handled at the faulting DIV", 10, 0
msg_gp:           db "demo: #GP handled, error code ", 0
msg_ring3:        db "demo: ring 3 through IRET, ", 0
msg_gate:         db "demo: back in ring 0 through call gate, ", 0
msg_ring3_again:  db "demo: ring 3 again through RETF, ", 0
msg_int80:        db "demo: ring 0 through INT 0x80 interrupt gate, ", 0
msg_done:         db "demo: done", 10, 0
msg_cpl:          db "CPL=", 0
msg_nl:           db 10, 0
msg_unexpected:   db "demo: FAIL: unexpected exception ", 0
msg_de_missed:    db "demo: FAIL: DIV by zero did not fault", 10, 0
msg_de_eip:       db "demo: FAIL: #DE pushed the wrong EIP", 10, 0
msg_gp_missed:    db "demo: FAIL: bad selector load did not fault", 10, 0
msg_gp_eip:       db "demo: FAIL: #GP pushed the wrong EIP", 10, 0
msg_gp_code:      db "demo: FAIL: #GP pushed the wrong error code", 10, 0
msg_gp_ds:        db "demo: FAIL: DS changed by a faulting load", 10, 0
msg_gate_frame:   db "demo: FAIL: wrong call gate stack frame", 10, 0
msg_int80_missed: db "demo: FAIL: INT 0x80 returned", 10, 0
msg_int80_frame:  db "demo: FAIL: wrong INT 0x80 stack frame", 10, 0

        align 8
gdt:    dq 0                                    ; 0x00 null
        dq 0x00CF9A000000FFFF                   ; 0x08 ring 0 code, flat 32-bit
        dq 0x00CF92000000FFFF                   ; 0x10 ring 0 data, flat
        dq 0x00CFFA000000FFFF                   ; 0x18 ring 3 code, flat 32-bit
        dq 0x00CFF2000000FFFF                   ; 0x20 ring 3 data, flat
        dw 0x0067, TSS_RAM, 0x8900, 0x0000      ; 0x28 32-bit TSS, available
        dq 0                                    ; 0x30 call gate, built at run time
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd GDT_RAM
idtr:   dw 256 * 8 - 1
        dd IDT_RAM

; ------------------------------------------------------------ reset vector
        times 0xFFF0 - ($ - $$) db 0xFF
        bits 16
reset:  jmp 0xF000:R(start16)
        times 0x10000 - ($ - $$) db 0xFF
