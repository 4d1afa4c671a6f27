#!/usr/bin/python3
"""Unlocks gnome-keyring's login collection with its password, without a prompter: one D-Bus
connection opens a plain Secret Service session and calls gnome-keyring's
UnlockWithMasterPassword (what a login does). Usage: unlock.py PASSWORD"""
import sys

from gi.repository import Gio, GLib

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(path, iface, method, args, reply):
    return bus.call_sync("org.freedesktop.secrets", path, iface, method, args,
                         GLib.VariantType(reply), Gio.DBusCallFlags.NONE, 5000, None)


_, session = call("/org/freedesktop/secrets", "org.freedesktop.Secret.Service", "OpenSession",
                  GLib.Variant("(sv)", ("plain", GLib.Variant("s", ""))), "(vo)").unpack()
secret = (session, b"", sys.argv[1].encode(), "text/plain")
call("/org/freedesktop/secrets", "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
     "UnlockWithMasterPassword",
     GLib.Variant("(o(oayays))", ("/org/freedesktop/secrets/collection/login", secret)), "()")
