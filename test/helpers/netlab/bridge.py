"""
The network lab's impairment stage: an Ethernet bridge between two interfaces of the router namespace
that delays, jitters, drops and reorders frames, separately per direction.

Why Python: it has to read and write whole Ethernet frames on an interface (AF_PACKET raw sockets),
which Node cannot open; and this kernel has no netem to do it for us. Rate and queue depth are not
done here: tbf on the router's egress interfaces does them (test/helpers/netlab/lab.ts), in the
kernel, after this stage.

Usage: bridge.py <server-side interface> <browser-side interface>
  stdin, one JSON object a line:
    {"down": Impairment, "up": Impairment, "seed": int}   replace the impairments ("down" = server → browser)
    {"stats": true}                                      print the counters
  Impairment = {"delayMs": float, "jitterMs": float, "loss": 0..1, "reorder": 0..1, "reorderMs": float}
  stdout, one JSON object a line: {"ready": true} once both sockets are bound, then one answer per
  command ({"applied": true}, {"stats": …} or {"error": "…"}; a refused command changes nothing). It exits when stdin closes, so it never outlives the process that started it.

Impairments, each direction on its own:
  delayMs    one-way delay of every frame.
  jitterMs   each frame's delay is delayMs + uniform(-jitterMs, +jitterMs), but a frame never leaves
             before the one in front of it (a path whose queueing varies keeps packet order).
  loss       probability that an IPv4 frame is dropped, independently of the others (ARP always passes,
             so that loss means lost packets, not a lost neighbour).
  reorder    probability that an IPv4 frame is held back reorderMs more than its turn, outside the
             order kept above, so that the frames behind it overtake it.
"""
import heapq
import json
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
SOL_PACKET = 263
# Each frame is read and written with its virtio-net header: frames that left a veth with their
# checksum still to be filled in (checksum offload) or as one large segment (GSO) keep that state,
# and the kernel completes it when the frame is sent on, instead of the receiver dropping it.
PACKET_VNET_HDR = 15
VNET_HDR_LEN = 10
PACKET_OUTGOING = 4


def open_socket(interface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    # Frames wait in tbf after this stage; they are charged to this socket until sent.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((interface, 0))
    s.setblocking(False)
    return s


class Direction:
    def __init__(self, name):
        self.name = name
        self.set(self.check({}))
        self.last_due = 0.0
        self.counts = {"frames": 0, "forwarded": 0, "lost": 0, "reordered": 0, "send_errors": 0}

    def check(self, impairment):
        """The impairment's settings, or ValueError naming the bad one (nothing is changed)."""
        settings = {
            "delay": float(impairment.get("delayMs", 0)) / 1000,
            "jitter": float(impairment.get("jitterMs", 0)) / 1000,
            "loss": float(impairment.get("loss", 0)),
            "reorder": float(impairment.get("reorder", 0)),
            "reorder_gap": float(impairment.get("reorderMs", 10)) / 1000,
        }
        for name in ("loss", "reorder"):
            if not 0 <= settings[name] <= 1:
                raise ValueError(f"{self.name}.{name} must be within 0..1, got {settings[name]}")
        if min(settings["delay"], settings["jitter"], settings["reorder_gap"]) < 0:
            raise ValueError(f"{self.name}: delays must not be negative: {impairment}")
        return settings

    def set(self, settings):
        self.__dict__.update(settings)

    def schedule(self, now, rng, is_ip):
        """When the frame received now leaves, or None when it is lost."""
        self.counts["frames"] += 1
        if is_ip and self.loss > 0 and rng.random() < self.loss:
            self.counts["lost"] += 1
            return None
        due = now + max(0.0, self.delay + (rng.uniform(-self.jitter, self.jitter) if self.jitter else 0.0))
        if is_ip and self.reorder > 0 and rng.random() < self.reorder:
            self.counts["reordered"] += 1
            return max(due, self.last_due) + self.reorder_gap
        due = max(due, self.last_due)
        self.last_due = due
        return due


def main():
    server_side, browser_side = sys.argv[1], sys.argv[2]
    sockets = {"server": open_socket(server_side), "browser": open_socket(browser_side)}
    # A frame read on the server side goes down to the browser, and the other way up.
    route = {
        sockets["server"].fileno(): (Direction("down"), sockets["browser"]),
        sockets["browser"].fileno(): (Direction("up"), sockets["server"]),
    }
    directions = {d.name: d for d, _ in route.values()}
    rng = random.Random(0)
    pending = []  # heap of (due, sequence, out socket, direction, frame)
    sequence = 0
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    command_buffer = b""
    print(json.dumps({"ready": True}), flush=True)

    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        readable, _, _ = select.select([stdin, *[s for s in sockets.values()]], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            if fd == stdin:
                chunk = os.read(stdin, 65536)
                if not chunk:
                    return
                command_buffer += chunk
                *lines, command_buffer = command_buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        try:
                            handle_command(json.loads(line), directions, rng)
                        except (ValueError, TypeError) as error:
                            print(json.dumps({"error": str(error)}), flush=True)
                continue
            direction, out = route[fd.fileno()]
            while True:
                try:
                    frame, address = fd.recvfrom(70000)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue  # our own sends, seen again on the interface they left by
                ethertype = int.from_bytes(frame[VNET_HDR_LEN + 12:VNET_HDR_LEN + 14], "big")
                due = direction.schedule(now, rng, ethertype == ETH_P_IP)
                if due is not None:
                    sequence += 1
                    heapq.heappush(pending, (due, sequence, out, direction, frame))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, direction, frame = heapq.heappop(pending)
            try:
                out.send(frame)
                direction.counts["forwarded"] += 1
            except OSError:
                # A full queue behind this stage (tbf at its limit) drops the frame, as a router would.
                direction.counts["send_errors"] += 1


def handle_command(command, directions, rng):
    if command.get("stats"):
        print(json.dumps({"stats": {name: d.counts for name, d in directions.items()}}), flush=True)
        return
    seed = int(command["seed"]) if "seed" in command else None
    checked = {name: directions[name].check(command[name]) for name in ("down", "up") if name in command}
    if seed is not None:
        rng.seed(seed)
    for name, settings in checked.items():
        directions[name].set(settings)
    print(json.dumps({"applied": True}), flush=True)


if __name__ == "__main__":
    main()
