; Softvisor boot-sector test: a 512-byte boot sector (floppy or MBR) that
; SeaBIOS loads at 0000:7C00. It reports the boot drive on the debug console
; (port 0xE9), reads the next sector (CHS 0/0/2) through INT 13h into 0000:8000,
; prints the NUL-terminated text found there, and halts. The test writes that
; second sector itself, so the line proves real disk reads through the
; firmware and the emulated controller. Build: nasm -f bin -o bootsect.bin
        bits 16
        org 0x7C00
DEBUGCON equ 0xE9

start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov [drive], dl
        mov si, msg_boot
        call print
        mov al, [drive]
        call hex8
        mov si, msg_nl
        call print
        mov ax, 0x0201                  ; read one sector
        mov cx, 0x0002                  ; cylinder 0, sector 2
        xor dh, dh                      ; head 0
        mov dl, [drive]
        mov bx, 0x8000
        int 0x13
        jc .fail
        mov si, msg_read
        call print
        mov si, 0x8000
        call print
        mov si, msg_nl
        call print
        jmp .halt
.fail:  mov si, msg_fail
        call print
.halt:  cli
        hlt
        jmp .halt

print:  mov dx, DEBUGCON                ; ds:si -> NUL-terminated string
.next:  lodsb
        test al, al
        jz .done
        out dx, al
        jmp .next
.done:  ret

hex8:   push ax                         ; al as two hex digits
        shr al, 4
        call .digit
        pop ax
        and al, 0x0F
.digit: add al, '0'
        cmp al, '9'
        jbe .out
        add al, 'A' - '9' - 1
.out:   mov dx, DEBUGCON
        out dx, al
        ret

msg_boot: db "bootsect: booted from drive 0x", 0
msg_read: db "bootsect: sector 2 says: ", 0
msg_fail: db "bootsect: INT 13h read failed", 10, 0
msg_nl:   db 10, 0
drive:    db 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
