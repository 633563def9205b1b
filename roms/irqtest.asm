; Softvisor interrupt test ROM: a 64 KiB flat firmware image that takes PIT,
; RTC and UART interrupts through the two 8259s, first in real mode (IVT,
; vectors 08h/70h) and then in 32-bit protected mode (IDT, PICs remapped to
; 20h/28h), and reports each step on COM1 (polled). Ends with CLI; HLT.
; Datasheets: Intel 8259A (ICW/OCW), 8254 (mode 2), MC146818 (registers A-C,
; periodic interrupt), 16550A (IER/IIR, THRE interrupt, OUT2 gates the IRQ).
; Build: nasm -f bin -o irqtest.bin irqtest.asm

        bits 16
        org 0xF0000

%define R(x) ((x) - $$)
COM1      equ 0x3F8
PIC1      equ 0x20
PIC2      equ 0xA0
PIT       equ 0x40
RTC       equ 0x70

; RAM (the CPU runs from ROM; data and tables live below 64 KiB)
CNT       equ 0x500         ; word: interrupts counted by the current handler
SENT      equ 0x502         ; word: characters the UART handler has sent
GDT_RAM   equ 0x1000
IDT_RAM   equ 0x2000
STACK     equ 0x7000
WANT      equ 8             ; interrupts to take from each source

; ------------------------------------------------------------ shared bodies
; They assemble in the current `bits` mode; PRINT points at print16/print32.

%macro PIT_TEST 1                        ; %1: message
        mov word [CNT], 0
        mov al, 0x34                     ; counter 0, LSB then MSB, mode 2
        out PIT + 3, al
        mov al, 1193 & 0xFF              ; 1193 clocks: about 1 kHz
        out PIT, al
        mov al, 1193 >> 8
        out PIT, al
        mov al, 0xFA                     ; master: IRQ0 and the cascade
        out PIC1 + 1, al
        sti
%%wait: hlt
        cmp word [CNT], WANT
        jb %%wait
        cli
        mov al, 0xFF
        out PIC1 + 1, al
        PRINT %1
%endmacro

%macro RTC_TEST 1
        mov word [CNT], 0
        mov al, 0x0A
        out RTC, al
        mov al, 0x26                     ; 32 kHz base, rate 6: 1024 Hz
        out RTC + 1, al
        mov al, 0x0B
        out RTC, al
        in al, RTC + 1
        or al, 0x40                      ; PIE
        mov ah, al
        mov al, 0x0B
        out RTC, al
        mov al, ah
        out RTC + 1, al
        mov al, 0x0C                     ; clear stale flags
        out RTC, al
        in al, RTC + 1
        mov al, 0xFB                     ; master: cascade only
        out PIC1 + 1, al
        mov al, 0xFE                     ; slave: IRQ8
        out PIC2 + 1, al
        sti
%%wait: hlt
        cmp word [CNT], WANT
        jb %%wait
        cli
        mov al, 0x0B
        out RTC, al
        mov al, 0x02                     ; PIE off, 24 h, BCD
        out RTC + 1, al
        mov al, 0xFF
        out PIC1 + 1, al
        out PIC2 + 1, al
        PRINT %1
%endmacro

%macro UART_TEST 1
        mov word [CNT], 0
        mov word [SENT], 0
        mov al, 0xEF                     ; master: IRQ4
        out PIC1 + 1, al
        mov dx, COM1 + 4
        mov al, 0x0B                     ; DTR, RTS, OUT2 (the PC's IRQ gate)
        out dx, al
        sti
        mov dx, COM1 + 1
        mov al, 0x02                     ; ETBEI: THR is empty, so IRQ4 comes
        out dx, al
%%wait: hlt
        cmp word [CNT], WANT
        jb %%wait
        cli
        mov dx, COM1 + 1
        xor al, al
        out dx, al
        mov al, 0xFF
        out PIC1 + 1, al
        PRINT %1
%endmacro

; IRQ handlers' common parts: %1 = 'iret' or 'iretd' form
%macro UART_ISR_BODY 0
        mov dx, COM1 + 2
        in al, dx                        ; IIR: reading it clears THRE
        inc word [CNT]
        cmp word [SENT], WANT - 1
        jae %%done
        inc word [SENT]
        mov dx, COM1
        mov al, '.'                      ; the next THRE interrupt follows
        out dx, al
%%done:
        mov al, 0x20
        out PIC1, al
%endmacro

; ---------------------------------------------------------------- real mode
%define PRINT PRINT16
%macro PRINT16 1
        mov si, R(%1)
        call print16
%endmacro

start16:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, STACK
        mov ds, ax
        mov es, ax
        call uart_init
        PRINT msg_start
        mov bx, 0x08                     ; real-mode PC vectors
        mov cx, 0x70
        call pic_init
        ; IVT: IRQ0 -> 08h, IRQ4 -> 0Ch, IRQ8 -> 70h, all in the F000 segment
        mov word [0x08 * 4], R(isr16_pit)
        mov word [0x08 * 4 + 2], 0xF000
        mov word [0x0C * 4], R(isr16_uart)
        mov word [0x0C * 4 + 2], 0xF000
        mov word [0x70 * 4], R(isr16_rtc)
        mov word [0x70 * 4 + 2], 0xF000
        PIT_TEST msg_rpit
        RTC_TEST msg_rrtc
        UART_TEST msg_ruart
        jmp enter_pm

print16:                                 ; cs:si -> NUL-terminated, to COM1
        push ax
        push dx
.next:  mov al, [cs:si]
        inc si
        test al, al
        jz .done
        call putc16
        jmp .next
.done:  pop dx
        pop ax
        ret

putc16:                                  ; al -> COM1, polling LSR.THRE
        push ax
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        pop ax
        mov dx, COM1
        out dx, al
        ret

uart_init:
        mov dx, COM1 + 3
        mov al, 0x80                     ; DLAB
        out dx, al
        mov dx, COM1
        mov al, 1                        ; 115200 baud
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03                     ; 8N1
        out dx, al
        mov dx, COM1 + 2
        mov al, 0x07                     ; FIFOs on and cleared
        out dx, al
        mov dx, COM1 + 1
        xor al, al                       ; no interrupts yet
        out dx, al
        ret

pic_init:                                ; bx = master base, cx = slave base
        mov al, 0x11                     ; ICW1: edge, cascade, ICW4
        out PIC1, al
        out PIC2, al
        mov al, bl
        out PIC1 + 1, al                 ; ICW2
        mov al, cl
        out PIC2 + 1, al
        mov al, 0x04                     ; ICW3: slave on IR2
        out PIC1 + 1, al
        mov al, 0x02
        out PIC2 + 1, al
        mov al, 0x01                     ; ICW4: 8086 mode
        out PIC1 + 1, al
        out PIC2 + 1, al
        mov al, 0xFF                     ; everything masked
        out PIC1 + 1, al
        out PIC2 + 1, al
        ret

isr16_pit:
        push ax
        inc word [CNT]
        mov al, 0x20
        out PIC1, al
        pop ax
        iret

isr16_rtc:
        push ax
        mov al, 0x0C                     ; register C: read to acknowledge
        out RTC, al
        in al, RTC + 1
        inc word [CNT]
        mov al, 0x20
        out PIC2, al
        out PIC1, al
        pop ax
        iret

isr16_uart:
        push ax
        push dx
        UART_ISR_BODY
        pop dx
        pop ax
        iret

enter_pm:
        mov si, R(gdt)
        mov di, GDT_RAM
        mov cx, gdt_end - gdt
        cs rep movsb
        lgdt [cs:R(gdtr)]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword 0x08:pm_entry

; ------------------------------------------------------- 32-bit protected mode
        bits 32
%undef PRINT
%define PRINT PRINT32
%macro PRINT32 1
        mov esi, %1
        call print32
%endmacro

pm_entry:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, STACK
        ; IDT: every vector to `unexpected`, then the three IRQs
        mov edi, IDT_RAM
        mov ecx, 256
.fill:  mov eax, unexpected
        call set_gate
        add edi, 8
        loop .fill
        mov edi, IDT_RAM + 0x20 * 8
        mov eax, isr32_pit
        call set_gate
        mov edi, IDT_RAM + 0x24 * 8
        mov eax, isr32_uart
        call set_gate
        mov edi, IDT_RAM + 0x28 * 8
        mov eax, isr32_rtc
        call set_gate
        lidt [idtr]
        PRINT msg_pm
        mov bx, 0x20                     ; protected mode: vectors 20h-2Fh
        mov cx, 0x28
        call pic_init32
        PIT_TEST msg_ppit
        RTC_TEST msg_prtc
        UART_TEST msg_puart
        PRINT msg_done
        cli
        hlt
        jmp $

set_gate:                                ; edi -> gate, eax = handler
        mov [edi], ax
        mov word [edi + 2], 0x08
        mov word [edi + 4], 0x8E00       ; present, DPL 0, 32-bit interrupt gate
        shr eax, 16
        mov [edi + 6], ax
        ret

print32:                                 ; esi -> NUL-terminated, to COM1
.next:  mov al, [esi]
        inc esi
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jz .wait
        mov al, ah
        mov dx, COM1
        out dx, al
        jmp .next
.done:  ret

pic_init32:
        mov al, 0x11
        out PIC1, al
        out PIC2, al
        mov al, bl
        out PIC1 + 1, al
        mov al, cl
        out PIC2 + 1, al
        mov al, 0x04
        out PIC1 + 1, al
        mov al, 0x02
        out PIC2 + 1, al
        mov al, 0x01
        out PIC1 + 1, al
        out PIC2 + 1, al
        mov al, 0xFF
        out PIC1 + 1, al
        out PIC2 + 1, al
        ret

isr32_pit:
        push eax
        inc word [CNT]
        mov al, 0x20
        out PIC1, al
        pop eax
        iretd

isr32_rtc:
        push eax
        mov al, 0x0C
        out RTC, al
        in al, RTC + 1
        inc word [CNT]
        mov al, 0x20
        out PIC2, al
        out PIC1, al
        pop eax
        iretd

isr32_uart:
        push eax
        push edx
        UART_ISR_BODY
        pop edx
        pop eax
        iretd

unexpected:
        PRINT msg_unexpected
        cli
        hlt
        jmp $

; ----------------------------------------------------------------- data
gdt:    dq 0
        dq 0x00CF9B000000FFFF            ; 0x08: code, flat, 32-bit
        dq 0x00CF93000000FFFF            ; 0x10: data, flat
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd GDT_RAM
idtr:   dw 256 * 8 - 1
        dd IDT_RAM

msg_start:  db "irqtest: start", 13, 10, 0
msg_rpit:   db "irqtest: real mode: 8 PIT interrupts (IRQ0, vector 08h)", 13, 10, 0
msg_rrtc:   db "irqtest: real mode: 8 RTC periodic interrupts (IRQ8, vector 70h)", 13, 10, 0
msg_ruart:  db 13, 10, "irqtest: real mode: 8 UART THRE interrupts (IRQ4, vector 0Ch)", 13, 10, 0
msg_pm:     db "irqtest: protected mode, PICs at 20h/28h", 13, 10, 0
msg_ppit:   db "irqtest: protected mode: 8 PIT interrupts (IRQ0, vector 20h)", 13, 10, 0
msg_prtc:   db "irqtest: protected mode: 8 RTC periodic interrupts (IRQ8, vector 28h)", 13, 10, 0
msg_puart:  db 13, 10, "irqtest: protected mode: 8 UART THRE interrupts (IRQ4, vector 24h)", 13, 10, 0
msg_done:   db "irqtest: done", 13, 10, 0
msg_unexpected: db "irqtest: unexpected interrupt or exception", 13, 10, 0

; ------------------------------------------------------------ reset vector
        bits 16
        times 0xFFF0 - ($ - $$) db 0xFF
reset:  jmp 0xF000:R(start16)
        times 0x10000 - ($ - $$) db 0xFF
