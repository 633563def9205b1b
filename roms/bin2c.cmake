# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P bin2c.cmake
# Turns a binary built from our sources (the compiled DSDT) into a C array.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n    " body "${body}")
file(WRITE ${OUT} "/* Generated from ${IN} by roms/bin2c.cmake. */\n#include <stddef.h>\n#include <stdint.h>\nconst uint8_t ${NAME}[] = {\n    ${body}\n};\nconst size_t ${NAME}_len = ${len};\n")
