def greeting():
    return "hello from the shared layer"
