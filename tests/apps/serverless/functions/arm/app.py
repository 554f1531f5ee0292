import shared_util
import ujson


def handler(event, context):
    return ujson.dumps({"fn": "arm", "shared": shared_util.greeting()})
