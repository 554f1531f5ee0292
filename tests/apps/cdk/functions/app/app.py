import os

import shared_util
import ujson


def handler(event, context):
    return ujson.dumps({"fn": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"), "shared": shared_util.greeting()})
