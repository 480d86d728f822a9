#!/usr/bin/env python3
"""fsop: perform one file-system operation and print OK or ERRNAME@stage.

The integration tests use it to see the exact errno a syscall returned,
and at which step (open, write, close...), which shell redirections hide.

    fsop.py write PATH DATA      open(O_WRONLY|O_TRUNC), one write, close
    fsop.py writechunks PATH N DATA   the same, DATA split into N writes
    fsop.py writeseq PATH D1 D2...  one open, one write per D, close:
                                 prints one result per write, then the close's
    fsop.py append PATH DATA     open(O_WRONLY|O_APPEND), write, close
    fsop.py read PATH            open, read all, close (prints OK SIZE)
    fsop.py openw PATH           open for writing and close
    fsop.py create PATH          open(O_CREAT|O_EXCL|O_WRONLY)
    fsop.py mkdir|rmdir|unlink|stat|listdir PATH
    fsop.py rename|link|symlink A B
    fsop.py chmod PATH
    fsop.py truncate PATH SIZE
"""
import errno
import os
import sys


def fail(stage, e):
    print("%s@%s" % (errno.errorcode.get(e.errno, str(e.errno)), stage))
    sys.exit(0)


def write(path, data, flags, chunks=1):
    try:
        fd = os.open(path, flags)
    except OSError as e:
        fail("open", e)
    step = max(1, -(-len(data) // chunks))
    try:
        for i in range(0, len(data), step):
            os.write(fd, data[i:i + step])
    except OSError as e:
        try:
            os.close(fd)
        except OSError:
            pass
        fail("write", e)
    try:
        os.close(fd)
    except OSError as e:
        fail("close", e)
    print("OK")


def main(argv):
    op, args = argv[1], argv[2:]
    try:
        if op == "write":
            write(args[0], args[1].encode(), os.O_WRONLY | os.O_TRUNC)
            return
        if op == "writechunks":
            write(args[0], args[2].encode(), os.O_WRONLY | os.O_TRUNC, int(args[1]))
            return
        if op == "writeseq":
            try:
                fd = os.open(args[0], os.O_WRONLY | os.O_TRUNC)
            except OSError as e:
                fail("open", e)
            res = []
            for d in args[1:]:
                try:
                    os.write(fd, d.encode())
                    res.append("OK")
                except OSError as e:
                    res.append(errno.errorcode.get(e.errno, str(e.errno)) + "@write")
            try:
                os.close(fd)
                res.append("OK")
            except OSError as e:
                res.append(errno.errorcode.get(e.errno, str(e.errno)) + "@close")
            print(" ".join(res))
            return
        if op == "append":
            write(args[0], args[1].encode(), os.O_WRONLY | os.O_APPEND)
            return
        if op == "read":
            try:
                fd = os.open(args[0], os.O_RDONLY)
            except OSError as e:
                fail("open", e)
            data = b""
            try:
                while True:
                    b = os.read(fd, 65536)
                    if not b:
                        break
                    data += b
            except OSError as e:
                fail("read", e)
            os.close(fd)
            print("OK %d" % len(data))
            return
        if op == "openw":
            try:
                fd = os.open(args[0], os.O_WRONLY)
            except OSError as e:
                fail("open", e)
            os.close(fd)
        elif op == "create":
            try:
                fd = os.open(args[0], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except OSError as e:
                fail("open", e)
            os.close(fd)
        elif op == "mkdir":
            os.mkdir(args[0])
        elif op == "rmdir":
            os.rmdir(args[0])
        elif op == "unlink":
            os.unlink(args[0])
        elif op == "stat":
            os.stat(args[0])
        elif op == "listdir":
            os.listdir(args[0])
        elif op == "rename":
            os.rename(args[0], args[1])
        elif op == "link":
            os.link(args[0], args[1])
        elif op == "symlink":
            os.symlink(args[0], args[1])
        elif op == "chmod":
            os.chmod(args[0], 0o600)
        elif op == "truncate":
            os.truncate(args[0], int(args[1]))
        else:
            print("fsop: unknown op " + op, file=sys.stderr)
            sys.exit(2)
    except OSError as e:
        fail(op, e)
    print("OK")


if __name__ == "__main__":
    main(sys.argv)
