import shared_util
import ujson


def handler(event, context):
    return ujson.dumps({"fn": "x86", "shared": shared_util.greeting()})
