# Drives the seed chat's client classes (client.py, unchanged) against gatehouse's legacy
# topics, through the broker at HOST:PORT, and prints what the clients received as one line
# "RESULT <json>" for tests/mqtt/legacy_seed_clients_test.cpp to check.
#
# What the driver adds around the seed's classes, and why:
# - Subclasses record what each on_message() returned (the seed's classes print it and
#   return it to paho, which drops it).
# - They also hold each request until the seed's on_connect() has sent its SUBSCRIBE. The
#   seed publishes its request right after connect(), before the CONNACK, while it
#   subscribes to its reply topic only in on_connect(): a server quicker than that round
#   trip answers before anyone listens, and the reply is lost (a race in the seed itself).
#   Holding the request keeps the test from depending on the machine's speed; one unchanged
#   GetMessage at the end, retried, shows the classes also work as they are.
# - Like: the seed's publish_like(client, messageId) names its `self` "client" and calls
#   client.publish(...), which a Like object does not have (its paho client is
#   self.client): the seed's Like cannot publish at all. DriverLike adds that one method.
#   Like sends no returnTopic, so the driver then likes once more the way the seed's server
#   expected it ({'message_id': N, 'returnTopic': ...}) to see the count.
import json
import os
import sys
import threading
import time

import paho.mqtt.client as mqtt

from main.config.config import HOST, PORT
import client as seed

WAIT = float(os.environ.get('WAIT_SECONDS', '60'))
USER = os.environ.get('SEED_USER', 'seeduser')
PASSWORD = 'seed-pass-1'
NEW_PASSWORD = 'new-pass-22'
TEXT = 'hello \'world\' "quoted" \\ 中文 😀\nsecond line'
QUESTION = 'Name of your first pet?'
ANSWER = 'Rex'

clients = []


class Recorded:
    def __init__(self, *args, **kwargs):
        self.subscribed = threading.Event()
        self.got = threading.Event()
        self.replies = []
        clients.append(self)
        super().__init__(*args, **kwargs)

    def on_connect(self, client, userdata, flags, rc):
        super().on_connect(client, userdata, flags, rc)  # the seed's subscribe
        self.subscribed.set()

    def on_message(self, client, userdata, msg):
        try:
            data = super().on_message(client, userdata, msg)
            if data is None and hasattr(self, 'messages'):
                data = self.messages  # GetMessage keeps it instead of returning it
            self.replies.append(data)
        except Exception as e:  # a reply the seed could not eval
            self.replies.append({'driver_error': repr(e),
                                 'payload': msg.payload.decode('utf-8', 'replace')})
        self.got.set()

    def hold(self):
        if not self.subscribed.wait(WAIT):
            print('driver: no CONNACK within', WAIT, 's', file=sys.stderr)

    def reply(self):
        self.got.wait(WAIT)
        return self.replies[0] if self.replies else None


class DriverRegister(Recorded, seed.Register):
    def publishRegister(self):
        self.hold()
        super().publishRegister()


class DriverLogin(Recorded, seed.Login):
    def publishLogin(self):
        self.hold()
        super().publishLogin()


class DriverGetMessage(Recorded, seed.GetMessage):
    def publishGetAllMessage(self):
        self.hold()
        super().publishGetAllMessage()


class DriverSendMessage(Recorded, seed.SendMessage):
    def publishSendMessage(self):
        self.hold()
        super().publishSendMessage()


class DriverSecurityQuestion(Recorded, seed.SecurityQuestion):
    def set_security_question(self):
        self.hold()
        super().set_security_question()

    def request_security_question(self):
        self.hold()
        super().request_security_question()

    def reset_password(self, answer, new_password):
        self.hold()
        super().reset_password(answer, new_password)


class DriverLike(seed.Like):
    def publish(self, topic, payload, qos):
        self.info = self.client.publish(topic, payload, qos)
        return self.info


def raw_like(message_id):
    """A like as the seed's server expected one, with a returnTopic; the reply eval()ed."""
    got = threading.Event()
    subscribed = threading.Event()
    replies = []
    c = mqtt.Client()
    c.on_subscribe = lambda client, userdata, mid, granted: subscribed.set()

    def on_message(client, userdata, msg):
        replies.append(eval(msg.payload.decode('utf-8')))
        got.set()
    c.on_message = on_message
    c.connect(HOST, PORT, 60)
    c.loop_start()
    c.subscribe('driverlike', 1)
    subscribed.wait(WAIT)
    c.publish('like', str({'message_id': message_id, 'returnTopic': 'driverlike'}).encode(), 1)
    got.wait(WAIT)
    c.loop_stop()
    c.disconnect()
    return replies[0] if replies else None


def main():
    result = {'sent_text': TEXT, 'user': USER}
    r = DriverRegister(USER, PASSWORD)
    result['register'] = r.reply()
    result['register_flag'] = r.flag
    result['register_again'] = DriverRegister(USER, PASSWORD).reply()

    l = DriverLogin(USER, PASSWORD)
    result['login'] = l.reply()
    result['login_flag'] = l.flag
    result['login_wrong'] = DriverLogin(USER, 'wrong-pass').reply()

    result['send'] = DriverSendMessage(USER, TEXT).reply()
    result['send_unknown_user'] = DriverSendMessage('nobody' + USER, 'x').reply()

    messages = DriverGetMessage(USER).reply()
    result['chatall'] = messages
    mine = [m for m in (messages or []) if isinstance(m, dict) and m.get('message') == TEXT]
    if mine:
        like = DriverLike(mine[0]['id'])
        like.info.wait_for_publish(WAIT)  # the broker has it before the second like
        result['like'] = raw_like(mine[0]['id'])

    result['set_question'] = DriverSecurityQuestion(USER, QUESTION, ANSWER).reply()
    result['set_question_again'] = DriverSecurityQuestion(USER, 'Other?', 'other').reply()
    result['request_question'] = DriverSecurityQuestion(USER).reply()
    result['reset_wrong'] = DriverSecurityQuestion(USER, QUESTION, 'Tom', NEW_PASSWORD).reply()
    result['reset'] = DriverSecurityQuestion(USER, QUESTION, ANSWER, NEW_PASSWORD).reply()
    result['login_new'] = DriverLogin(USER, NEW_PASSWORD).reply()
    result['login_old'] = DriverLogin(USER, PASSWORD).reply()

    # The seed's GetMessage exactly as it is: it may lose the race described above, so it
    # gets a few tries (chatall changes nothing).
    plain = None
    for _ in range(5):
        g = seed.GetMessage(USER)
        clients.append(g)
        deadline = time.time() + WAIT / 5
        while time.time() < deadline and not g.messages:
            time.sleep(0.05)
        if g.messages:
            plain = g.messages
            break
    result['plain_chatall'] = plain

    print('RESULT ' + json.dumps(result), flush=True)


if __name__ == '__main__':
    try:
        main()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # The seed's loop threads are not daemons and never end on their own.
        os._exit(0)
