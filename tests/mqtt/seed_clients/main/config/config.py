# Stand-in for the seed's main/config/config.py: where the broker is (from the environment,
# set by the test) and the request topics the client classes publish to.
import os

HOST = os.environ.get('HOST', '127.0.0.1')
PORT = int(os.environ.get('PORT', '1883'))
publish_topic = {
    'register_topic': 'register',
    'login_topic': 'login',
    'like_topic': 'like',
}
