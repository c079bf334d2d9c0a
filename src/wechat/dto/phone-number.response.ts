import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ description: "The user's phone number, as WeChat gave it; also saved as the user's `mobile`" })
export class PhoneNumberResponse {
  @ApiProperty({ description: 'With the country code for numbers outside mainland China', example: '13800138000' })
  phoneNumber: string;

  @ApiProperty({ description: 'Without the country code', example: '13800138000' })
  purePhoneNumber: string;

  @ApiProperty({ description: 'The country calling code, without `+`', example: '86' })
  countryCode: string;
}

@ApiSchema({ description: "Whether the user's WeChat session (its session_key) is still valid" })
export class SessionStatusResponse {
  @ApiProperty({ description: "Whether WeChat still holds the session_key of this user's last login. False: call wx.login and log in again before sending encrypted data.", example: true })
  valid: boolean;
}
