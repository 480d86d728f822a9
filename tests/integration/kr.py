#!/usr/bin/python3
"""kr: the official CLI's keyring items, read and written the way it does
(Python's keyring library, Secret Service backend), for the tests.

    kr.py set CLIENT_ID < login.json    store access/id/refresh tokens and the
                                        expiry (now + expires_in, isoformat UTC)
    kr.py get CLIENT_ID                 print the four items as one JSON object
    kr.py attrs CLIENT_ID               print each item's attributes (JSON)
    kr.py clear CLIENT_ID               delete the four items

Uses Debian's python3-keyring (run with /usr/bin/python3); talks only to
the session bus of the test.
"""
import datetime
import json
import sys

import keyring
import keyring.backends.SecretService

SERVICE = "exalsius_cli"
KINDS = ("access_token", "id_token", "refresh_token", "expiry")


def main():
    cmd, cid = sys.argv[1], sys.argv[2]
    kr = keyring.backends.SecretService.Keyring()
    if cmd == "set":
        login = json.load(sys.stdin)
        expiry = (datetime.datetime.now(datetime.timezone.utc) +
                  datetime.timedelta(seconds=int(login["expires_in"])))
        kr.set_password(SERVICE, cid + "_access_token", login["access_token"])
        kr.set_password(SERVICE, cid + "_id_token", login["id_token"])
        kr.set_password(SERVICE, cid + "_expiry", expiry.astimezone(datetime.timezone.utc).isoformat())
        if login.get("refresh_token"):
            kr.set_password(SERVICE, cid + "_refresh_token", login["refresh_token"])
    elif cmd == "get":
        print(json.dumps({k: kr.get_password(SERVICE, cid + "_" + k) for k in KINDS}))
    elif cmd == "attrs":
        coll = kr.get_preferred_collection()
        out = {}
        for k in KINDS:
            items = list(coll.search_items({"service": SERVICE, "username": cid + "_" + k}))
            out[k] = [dict(i.get_attributes()) for i in items]
        print(json.dumps(out))
    elif cmd == "clear":
        for k in KINDS:
            try:
                kr.delete_password(SERVICE, cid + "_" + k)
            except keyring.errors.PasswordDeleteError:
                pass
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
