import six


def greeting():
    return six.ensure_str(b"hello from the shared layer")
