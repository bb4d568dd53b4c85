/* The fast path's numbers, mirroring viamlite/fastpath/schema.py (a test compares them). */
#ifndef SCHEMA_H
#define SCHEMA_H

#define FP_VERSION 1

/* message types */
#define MSG_HELLO 1
#define MSG_RESOLVE 2
#define MSG_CALL 3
#define MSG_SUBSCRIBE 4
#define MSG_UNSUBSCRIBE 5
#define MSG_OPEN_STREAM 6
#define MSG_SETPOINT 7
#define MSG_CLOSE_STREAM 8
#define MSG_PING 9
#define MSG_RESULT 17
#define MSG_ERROR 18
#define MSG_SAMPLE 19
#define MSG_EVENT 20
#define MSG_GOODBYE 21

/* error codes: viamlite's status codes (viamlite/rpc/status.py Code, numbered as gRPC's) */
#define ERR_OK 0
#define ERR_CANCELLED 1
#define ERR_UNKNOWN 2
#define ERR_INVALID_ARGUMENT 3
#define ERR_DEADLINE_EXCEEDED 4
#define ERR_NOT_FOUND 5
#define ERR_ALREADY_EXISTS 6
#define ERR_PERMISSION_DENIED 7
#define ERR_RESOURCE_EXHAUSTED 8
#define ERR_FAILED_PRECONDITION 9
#define ERR_ABORTED 10
#define ERR_OUT_OF_RANGE 11
#define ERR_UNIMPLEMENTED 12
#define ERR_INTERNAL 13
#define ERR_UNAVAILABLE 14
#define ERR_DATA_LOSS 15
#define ERR_UNAUTHENTICATED 16

/* method ids the firmware implements */
#define M_GET_STATUS 3
#define M_STOP 4
#define M_IS_MOVING 5
#define M_SERVO_MOVE 10
#define M_SERVO_GET_POSITION 11
#define M_SERVO_ATTACH 12
#define M_SERVO_DETACH 13
#define M_SERVO_GET_STATE 14
#define M_BOARD_SET_GPIO 40
#define M_BOARD_GET_GPIO 41
#define M_BOARD_READ_ANALOG 46
#define M_BOARD_MEASURE_PULSE 50
#define M_ENCODER_GET_POSITION 60
#define M_ENCODER_RESET_POSITION 61
#define M_ENCODER_ATTACH 63

/* limits */
#define MAX_RATE_HZ 2000
#define MIN_TIMEOUT_MS 5
#define MAX_TIMEOUT_MS 60000

#endif
