"""execution/peers.py: the client socket of a loopback connection and its owner, found both ways."""

from __future__ import annotations

import os
import socket

from lambdabox.execution import peers


def test_the_client_socket_is_found_and_its_owner_recognised() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        try:
            client_port, server_port = client.getsockname()[1], server.getsockname()[1]
            inode = os.fstat(client.fileno()).st_ino
            assert peers.client_socket_inode(client_port, server_port) == inode
            assert peers._inode_by_proc(client_port, server_port) == inode  # the fallback agrees
            assert peers.owns_socket([os.getpid()], inode)
            assert not peers.owns_socket([1], inode)
            assert peers.client_socket_inode(server_port, client_port) != inode  # the server's end
        finally:
            accepted.close()
            client.close()


def test_an_unknown_connection_has_no_inode() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        assert peers.client_socket_inode(1, server.getsockname()[1]) is None
